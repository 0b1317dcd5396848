/* test_workflow.c — the case lifecycle table: every status × event, legal or refused. */
#include "review/workflow.h"

static void
test_lifecycle (void)
{
  /* expected[status][event]: the next status, or -1 when refused */
  G_STATIC_ASSERT (N_CASE_EVENTS == 8);   /* a new event needs its column below */
  static const gint expected[N_CASE_STATUSES][N_CASE_EVENTS] = {
    /*                         invite  live  approve rectify reject countersign return reopen */
    [CASE_ACCEPTED] =            { CASE_AWAITING_INSPECTION, CASE_INSPECTING, -1, -1, -1, -1, -1, -1 },
    [CASE_AWAITING_INSPECTION] = { -1, CASE_INSPECTING, -1, -1, -1, -1, -1, -1 },
    [CASE_INSPECTING] =          { -1, -1, CASE_APPROVED, CASE_RECTIFICATION_REQUIRED, CASE_REJECTION_PENDING, -1, -1, -1 },
    [CASE_APPROVED] =            { -1, -1, -1, -1, -1, -1, -1, CASE_ACCEPTED },
    /* a rejection may follow the notice at once, without the applicant reconnecting */
    [CASE_RECTIFICATION_REQUIRED] = { -1, CASE_INSPECTING, -1, -1, CASE_REJECTION_PENDING, -1, -1, -1 },
    [CASE_REJECTION_PENDING] =   { -1, -1, -1, -1, -1, CASE_REJECTED, CASE_INSPECTING, -1 },
    [CASE_REJECTED] =            { -1, -1, -1, -1, -1, -1, -1, CASE_ACCEPTED },
  };
  for (CaseStatus s = 0; s < N_CASE_STATUSES; s++)
    for (CaseEvent e = 0; e < N_CASE_EVENTS; e++) {
      CaseStatus to = N_CASE_STATUSES;
      gboolean ok = workflow_next (s, e, &to);
      if (expected[s][e] < 0) {
        if (ok)
          g_error ("%s --%s--> %s should be refused", workflow_status_name (s), workflow_event_name (e),
                   workflow_status_name (to));
      } else {
        g_assert_true (ok);
        g_assert_cmpstr (workflow_status_name (to), ==, workflow_status_name (expected[s][e]));
      }
    }
}

static void
test_names (void)
{
  for (CaseStatus s = 0; s < N_CASE_STATUSES; s++) {
    CaseStatus back;
    g_assert_true (workflow_status_parse (workflow_status_name (s), &back));
    g_assert_cmpint (back, ==, s);
  }
  CaseStatus x;
  g_assert_false (workflow_status_parse ("decided", &x));
  g_assert_false (workflow_status_parse (NULL, &x));
  g_assert_true (workflow_status_is_open ("inspecting"));
  g_assert_true (workflow_status_is_open ("rejection_pending"));
  g_assert_false (workflow_status_is_open ("approved"));
  g_assert_false (workflow_status_is_open ("rectification_required"));
  g_assert_false (workflow_status_is_open ("nonsense"));
  /* closed: finally decided, until a reopening */
  g_assert_true (workflow_status_is_closed ("approved"));
  g_assert_true (workflow_status_is_closed ("rejected"));
  g_assert_false (workflow_status_is_closed ("rejection_pending"));
  g_assert_false (workflow_status_is_closed ("rectification_required"));
  g_assert_false (workflow_status_is_closed ("inspecting"));
  g_assert_false (workflow_status_is_closed (NULL));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/workflow/lifecycle", test_lifecycle);
  g_test_add_func ("/workflow/names", test_names);
  return g_test_run ();
}
