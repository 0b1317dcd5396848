/* report_pdf.h — the inspection report of one case as a PDF (cairo + pango). */
#pragma once
#include "app/app.h"
#include "store/db.h"
#include "archive/case_report.h"

/* writes the report to path in one language (lang "zh-CN" or "en"; NULL: [bureau] language):
 * case facts, each item with its mark, note and stills (by hash), the decisions and
 * countersignature, the live inspections and the recordings with hashes; every value (result,
 * status, decision, department, state) in words of that language, times in [bureau] timezone */
gboolean report_pdf_write (KanyanApp *app, const CaseRow *row, const gchar *lang, const gchar *path, GError **error);
/* the same from a report already built (the bundle renders one report three ways) */
gboolean report_pdf_render (KanyanApp *app, const CaseReport *report, const gchar *lang, const gchar *path,
                            GError **error);
/* TRUE for a language the report is written in ("zh-CN", "en") */
gboolean report_pdf_language_known (const gchar *lang);
/* the report's words (the PDF's and the bundle's report.html): key's words in Chinese (zh) or
 * English, the key itself when the table has none; a stored code of a kind ("result",
 * "status", "decision", "dstate", "dept", "rec") in words, the code when unknown, "–" for none */
const gchar *report_word (gboolean zh, const gchar *key);
const gchar *report_value (gboolean zh, const gchar *kind, const gchar *code);
