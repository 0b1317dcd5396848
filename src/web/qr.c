/* qr.c — renders a QR code of a text (an invite URL) as SVG or as terminal text.
 * libqrencode makes the matrix; this file only draws it. */
#include "web/qr.h"
#include <qrencode.h>

#define QUIET 4

static QRcode *
qr_encode (const gchar *text)
{
  return QRcode_encodeString (text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
}

static gboolean
dark (const QRcode *qr, gint x, gint y)
{
  if (x < 0 || y < 0 || x >= qr->width || y >= qr->width)
    return FALSE;
  return qr->data[y * qr->width + x] & 1;
}

gchar *
qr_svg (const gchar *text)
{
  QRcode *qr = qr_encode (text);
  if (!qr)
    return NULL;
  gint size = qr->width + 2 * QUIET;
  GString *svg = g_string_new (NULL);
  g_string_append_printf (svg, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
                          "shape-rendering=\"crispEdges\" role=\"img\"><rect width=\"%d\" height=\"%d\" fill=\"#fff\"/>"
                          "<path fill=\"#000\" d=\"", size, size, size, size);
  for (gint y = 0; y < qr->width; y++)
    for (gint x = 0; x < qr->width; x++)
      if (dark (qr, x, y))
        g_string_append_printf (svg, "M%d %dh1v1h-1z", x + QUIET, y + QUIET);
  g_string_append (svg, "\"/></svg>");
  QRcode_free (qr);
  return g_string_free (svg, FALSE);
}

gchar *
qr_terminal (const gchar *text)
{
  QRcode *qr = qr_encode (text);
  if (!qr)
    return NULL;
  GString *out = g_string_new (NULL);
  /* two modules per character cell: upper and lower half; light is "on" (terminal background may be dark) */
  for (gint y = -2; y < qr->width + 2; y += 2) {
    for (gint x = -2; x < qr->width + 2; x++) {
      gboolean top = !dark (qr, x, y), bottom = !dark (qr, x, y + 1);
      g_string_append (out, top && bottom ? "█" : top ? "▀" : bottom ? "▄" : " ");
    }
    g_string_append_c (out, '\n');
  }
  QRcode_free (qr);
  return g_string_free (out, FALSE);
}
