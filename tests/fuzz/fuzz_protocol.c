/* fuzz_protocol.c — libFuzzer target: one WebSocket signaling message into protocol_parse(). */
#include "web/protocol.h"
#include <stdint.h>

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *id = NULL;
  g_autoptr (ProtocolMessage) msg = protocol_parse ((const gchar *) data, size, &id, &error);
  g_assert ((msg == NULL) == (error != NULL));
  if (error) {
    g_autofree gchar *json = protocol_error_json (error->code, error->message, id);
    g_assert (json != NULL);
  }
  return 0;
}
