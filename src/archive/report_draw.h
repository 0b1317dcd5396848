/* report_draw.h — the report's pictures drawn with cairo (report_pdf.c lays them out): an
 * evidence still as a thumbnail with its drawing over it, the applicant's signature from its
 * stored strokes, and a QR code. Each draws into the box it is given; never reads the store. */
#pragma once
#include <glib.h>
#include <cairo.h>

/* the JPEG (or PNG) at path scaled into max_w × max_h (its aspect kept), at (x, y), with the
 * annotation's shapes (the stored JSON: [{kind, x1, y1, x2, y2}], NULL: none) over it; its
 * drawn size in *w, *h. FALSE when the file cannot be read (nothing is drawn). */
gboolean report_draw_still (cairo_t *cr, const gchar *path, const gchar *annotation, gdouble x, gdouble y,
                            gdouble max_w, gdouble max_h, gdouble *w, gdouble *h);
/* the stored strokes (acknowledge.c's JSON, points 0..1 of the box) into w × h at (x, y), in ink
 * blue, with a thin grey frame */
void     report_draw_strokes (cairo_t *cr, const gchar *strokes, gdouble x, gdouble y, gdouble w, gdouble h);
/* a QR code of text, size × size at (x, y) with its quiet zone; FALSE when it does not fit */
gboolean report_draw_qr (cairo_t *cr, const gchar *text, gdouble x, gdouble y, gdouble size);
