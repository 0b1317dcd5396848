/* fuzz_bodies.c — libFuzzer target: one REST request body into bodies_parse_object() and then
 * every body parser (login, case, assign, mark, decision, countersign, geo, still, annotation,
 * user, case type).
 * Each must answer TRUE, or FALSE with exactly one KANYAN_ERROR. */
#include "web/bodies.h"
#include "core/errors.h"
#include <stdint.h>

#define CHECK(call)                                                     \
  do {                                                                  \
    g_autoptr (GError) e = NULL;                                        \
    gboolean ok = call;                                                 \
    g_assert (ok == (e == NULL));                                       \
    g_assert (ok || (e->domain == KANYAN_ERROR && e->message[0]));      \
  } while (0)

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  JsonObject *obj = bodies_parse_object (parser, (const gchar *) data, size, &error);
  g_assert ((obj == NULL) == (error != NULL));
  if (!obj)
    return 0;
  LoginBody login;
  CaseBody c;
  AssignBody a = { 0 };
  MarkBody m;
  DecisionBody d;
  CountersignBody cs;
  GeoBody g;
  StillBody s;
  AnnotationBody an;
  CHECK (bodies_parse_login (obj, &login, &e));
  CHECK (bodies_parse_case (obj, &c, &e));
  CHECK (bodies_parse_assign (obj, &a, &e));
  g_clear_pointer (&a.co_reviewers, g_ptr_array_unref);
  CHECK (bodies_parse_mark (obj, &m, &e));
  CHECK (bodies_parse_decision (obj, &d, &e));
  CHECK (bodies_parse_countersign (obj, &cs, &e));
  CHECK (bodies_parse_geo (obj, &g, &e));
  CHECK (bodies_parse_still (obj, &s, &e));
  CHECK (bodies_parse_annotation (obj, &an, &e));
  UserBody u;
  CHECK (bodies_parse_user (obj, &u, &e));
  for (gint edit = 0; edit < 2; edit++) {
    CaseTypeDef def;
    CHECK (bodies_parse_case_type (obj, edit ? "fuel-retail" : NULL, &def, &e));
    g_clear_pointer (&def.items, g_array_unref);
  }
  return 0;
}
