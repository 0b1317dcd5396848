/* report_pdf.h — the inspection report of one case as a PDF (cairo + pango). */
#pragma once
#include "app/app.h"
#include "store/db.h"
#include "archive/case_report.h"

/* writes the report to path: case facts, each item with its mark, note and stills (by hash),
 * the decisions and countersignature, the live inspections and the recordings with hashes */
gboolean report_pdf_write (KanyanApp *app, const CaseRow *row, const gchar *path, GError **error);
/* the same from a report already built (the bundle renders one report three ways) */
gboolean report_pdf_render (KanyanApp *app, const CaseReport *report, const gchar *path, GError **error);
