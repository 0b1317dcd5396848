/* report_draw.c — the report's pictures on a cairo surface (report_draw.h): stills decoded with
 * gdk-pixbuf (cairo reads PNG only) and their drawing (arrow, circle, box: as web/review/drawing.js
 * draws them), the signature's strokes, the QR code (libqrencode). Reads the still's file; never
 * the store, never sockets. */
#include "archive/report_draw.h"
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <json-glib/json-glib.h>
#include <qrencode.h>
#include <math.h>

/* a pixbuf as a cairo image surface (RGB(A) → premultiplied ARGB32) */
static cairo_surface_t *
surface_of (GdkPixbuf *pb)
{
  gint w = gdk_pixbuf_get_width (pb), h = gdk_pixbuf_get_height (pb);
  gint n = gdk_pixbuf_get_n_channels (pb), stride = gdk_pixbuf_get_rowstride (pb);
  gboolean alpha = gdk_pixbuf_get_has_alpha (pb);
  const guchar *src = gdk_pixbuf_read_pixels (pb);
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, w, h);
  guchar *dst = cairo_image_surface_get_data (s);
  gint dstride = cairo_image_surface_get_stride (s);
  for (gint y = 0; y < h; y++) {
    const guchar *p = src + y * stride;
    guint32 *q = (guint32 *) (dst + y * dstride);
    for (gint x = 0; x < w; x++, p += n) {
      guint a = alpha ? p[3] : 255;
      guint r = p[0] * a / 255, g = p[1] * a / 255, b = p[2] * a / 255;
      q[x] = (a << 24) | (r << 16) | (g << 8) | b;
    }
  }
  cairo_surface_mark_dirty (s);
  return s;
}

static gdouble
coord (JsonObject *o, const gchar *name)
{
  JsonNode *n = json_object_get_member (o, name);
  return n && JSON_NODE_HOLDS_VALUE (n) ? json_node_get_double (n) : 0.0;
}

/* the drawing's shapes over the picture at (x, y) w × h; coordinates are 0..1 of the image */
static void
draw_shapes (cairo_t *cr, const gchar *annotation, gdouble x, gdouble y, gdouble w, gdouble h)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  if (!annotation || !json_parser_load_from_data (parser, annotation, -1, NULL))
    return;
  JsonNode *root = json_parser_get_root (parser);
  if (JSON_NODE_HOLDS_OBJECT (root))   /* {shapes: [...]} or the shapes themselves */
    root = json_object_get_member (json_node_get_object (root), "shapes");
  if (!root || !JSON_NODE_HOLDS_ARRAY (root))
    return;
  JsonArray *shapes = json_node_get_array (root);
  cairo_save (cr);
  cairo_set_source_rgb (cr, 0.86, 0.1, 0.1);
  cairo_set_line_width (cr, MAX (1.5, w / 120));
  for (guint i = 0; i < json_array_get_length (shapes); i++) {
    JsonNode *sn = json_array_get_element (shapes, i);
    if (!JSON_NODE_HOLDS_OBJECT (sn))
      continue;
    JsonObject *o = json_node_get_object (sn);
    const gchar *kind = json_object_get_string_member_with_default (o, "kind", "");
    gdouble x1 = x + coord (o, "x1") * w, y1 = y + coord (o, "y1") * h;
    gdouble x2 = x + coord (o, "x2") * w, y2 = y + coord (o, "y2") * h;
    if (g_strcmp0 (kind, "box") == 0) {
      cairo_rectangle (cr, MIN (x1, x2), MIN (y1, y2), fabs (x2 - x1), fabs (y2 - y1));
    } else if (g_strcmp0 (kind, "circle") == 0) {
      gdouble rx = MAX (fabs (x2 - x1) / 2, 0.5), ry = MAX (fabs (y2 - y1) / 2, 0.5);
      cairo_save (cr);
      cairo_translate (cr, (x1 + x2) / 2, (y1 + y2) / 2);
      cairo_scale (cr, rx, ry);
      cairo_arc (cr, 0, 0, 1, 0, 2 * G_PI);
      cairo_restore (cr);
    } else if (g_strcmp0 (kind, "arrow") == 0) {
      gdouble angle = atan2 (y2 - y1, x2 - x1), head = MAX (4.0, w / 25);
      cairo_move_to (cr, x1, y1);
      cairo_line_to (cr, x2, y2);
      cairo_move_to (cr, x2 - head * cos (angle - G_PI / 6), y2 - head * sin (angle - G_PI / 6));
      cairo_line_to (cr, x2, y2);
      cairo_line_to (cr, x2 - head * cos (angle + G_PI / 6), y2 - head * sin (angle + G_PI / 6));
    }
    cairo_stroke (cr);
  }
  cairo_restore (cr);
}

gboolean
report_draw_still (cairo_t *cr, const gchar *path, const gchar *annotation, gdouble x, gdouble y, gdouble max_w,
                   gdouble max_h, gdouble *w, gdouble *h)
{
  *w = *h = 0;
  if (!path || !g_file_test (path, G_FILE_TEST_IS_REGULAR))
    return FALSE;
  /* decoded at twice the printed size: sharp enough on paper, small in the file */
  g_autoptr (GdkPixbuf) pb = gdk_pixbuf_new_from_file_at_scale (path, (gint) (max_w * 2), (gint) (max_h * 2), TRUE, NULL);
  if (!pb)
    return FALSE;
  gdouble pw = gdk_pixbuf_get_width (pb), ph = gdk_pixbuf_get_height (pb);
  gdouble scale = MIN (max_w / pw, max_h / ph);
  *w = pw * scale;
  *h = ph * scale;
  cairo_surface_t *s = surface_of (pb);
  cairo_save (cr);
  cairo_translate (cr, x, y);
  cairo_scale (cr, scale, scale);
  cairo_set_source_surface (cr, s, 0, 0);
  cairo_paint (cr);
  cairo_restore (cr);
  cairo_surface_destroy (s);
  draw_shapes (cr, annotation, x, y, *w, *h);
  return TRUE;
}

void
report_draw_strokes (cairo_t *cr, const gchar *strokes, gdouble x, gdouble y, gdouble w, gdouble h)
{
  cairo_save (cr);
  cairo_set_source_rgb (cr, 0.6, 0.6, 0.6);
  cairo_set_line_width (cr, 0.5);
  cairo_rectangle (cr, x, y, w, h);
  cairo_stroke (cr);
  g_autoptr (JsonParser) parser = json_parser_new ();
  if (strokes && json_parser_load_from_data (parser, strokes, -1, NULL) &&
      JSON_NODE_HOLDS_ARRAY (json_parser_get_root (parser))) {
    JsonArray *list = json_node_get_array (json_parser_get_root (parser));
    cairo_set_source_rgb (cr, 0.05, 0.15, 0.6);   /* ink blue: a signature, not print */
    cairo_set_line_width (cr, MAX (1.5, w / 120));
    cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);
    cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
    for (guint i = 0; i < json_array_get_length (list); i++) {
      JsonNode *sn = json_array_get_element (list, i);
      JsonArray *points = JSON_NODE_HOLDS_ARRAY (sn) ? json_node_get_array (sn) : NULL;
      for (guint k = 0; points && k < json_array_get_length (points); k++) {
        JsonArray *p = json_array_get_array_element (points, k);
        gdouble px = x + json_array_get_double_element (p, 0) * w, py = y + json_array_get_double_element (p, 1) * h;
        if (k == 0)
          cairo_move_to (cr, px, py);
        cairo_line_to (cr, px + (json_array_get_length (points) == 1 ? 0.1 : 0), py);
      }
      cairo_stroke (cr);
    }
  }
  cairo_restore (cr);
}

gboolean
report_draw_qr (cairo_t *cr, const gchar *text, gdouble x, gdouble y, gdouble size)
{
  QRcode *qr = QRcode_encodeString (text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
  if (!qr)
    return FALSE;
  const gint quiet = 4, n = qr->width + 2 * quiet;
  gdouble m = size / n;
  cairo_save (cr);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_rectangle (cr, x, y, size, size);
  cairo_fill (cr);
  cairo_set_source_rgb (cr, 0, 0, 0);
  for (gint r = 0; r < qr->width; r++)
    for (gint c = 0; c < qr->width; c++)
      if (qr->data[r * qr->width + c] & 1)
        cairo_rectangle (cr, x + (c + quiet) * m, y + (r + quiet) * m, m, m);
  cairo_fill (cr);
  cairo_restore (cr);
  QRcode_free (qr);
  return TRUE;
}
