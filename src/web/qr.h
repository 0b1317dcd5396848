/* qr.h — invite links as QR codes (libqrencode): SVG for pages, text for terminals. */
#pragma once
#include <glib.h>

gchar *qr_svg (const gchar *text);        /* NULL when the text does not fit a QR code */
gchar *qr_terminal (const gchar *text);   /* Unicode half blocks, dark on light */
