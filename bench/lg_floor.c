/* lg_floor.c — a reviewer of bench-floor (bench/floor.c, --floor): it asks the floor relay for
 * an offer (POST /view/REF, again every 200 ms while the publisher's media is not flowing yet),
 * answers it from its own webrtcbin and posts the answer back. Media is counted as for Kanyan
 * and Janus (rev_watch_pc). The publishers are the WHIP publishers of lg_publisher.c.
 * Main loop, except where a callback says webrtcbin's thread. */
#include "loadgen.h"
#include <string.h>

typedef struct {
  Rev *rev;
  GstElement *pipe, *webrtc;
  GObject *ice, *agent;
  char *location;
} FloorView;

static void ask_offer (FloorView *v);

static gboolean
ask_again (gpointer data)
{
  ask_offer (data);
  return G_SOURCE_REMOVE;
}

/* main loop: the answer is gathered; it goes to the view's Location */
static gboolean
post_answer_main (gpointer data)
{
  FloorView *v = data;
  char *sdp = lg_local_sdp (v->webrtc);
  if (!sdp)
    return G_SOURCE_REMOVE;
  g_autofree char *url = g_strdup_printf ("%s%s", lg.base, v->location);
  lg_post_sdp (url, NULL, sdp, NULL, NULL);
  return G_SOURCE_REMOVE;
}

/* webrtcbin's thread */
static void
on_offer_applied (GstPromise *promise, gpointer data)
{
  FloorView *v = data;
  gst_promise_unref (promise);
  lg_create_description (v->webrtc, FALSE);
}

static void
on_offer (GObject *src, GAsyncResult *res, gpointer data)
{
  FloorView *v = data;
  g_autoptr (GError) err = NULL;
  g_autoptr (GBytes) body = soup_session_send_and_read_finish (SOUP_SESSION (src), res, &err);
  SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION (src), res);
  guint status = msg ? soup_message_get_status (msg) : 0;
  if (status == 409) {   /* the publisher's media is not flowing yet */
    g_timeout_add (200, ask_again, v);
    return;
  }
  gsize len = 0;
  const char *text = body ? g_bytes_get_data (body, &len) : NULL;
  g_autofree char *offer_text = text ? g_strndup (text, len) : NULL;
  const char *location = msg ? soup_message_headers_get_one (soup_message_get_response_headers (msg), "Location") : NULL;
  GstSDPMessage *sdp = NULL;
  if (status != 201 || !offer_text || !location || gst_sdp_message_new_from_text (offer_text, &sdp) != GST_SDP_OK) {
    g_printerr ("loadgen: %s: POST /view: %u %s\n", v->rev->name, status, err ? err->message : "");
    return;
  }
  v->location = g_strdup (location);
  v->rev->audio_pt = 111;   /* offered: the summary counts it as a peer connection */
  v->pipe = gst_pipeline_new (NULL);
  v->webrtc = lg_webrtcbin (v->pipe, GST_WEBRTC_BUNDLE_POLICY_MAX_BUNDLE, &v->ice, &v->agent);
  rev_watch_pc (v->rev, v->webrtc);
  lg_on_gathered (v->webrtc, post_answer_main, v);
  lg_track_conn_state (v->webrtc, v->rev);
  gst_element_set_state (v->pipe, GST_STATE_PLAYING);
  GstWebRTCSessionDescription *offer = gst_webrtc_session_description_new (GST_WEBRTC_SDP_TYPE_OFFER, sdp);
  g_signal_emit_by_name (v->webrtc, "set-remote-description", offer, gst_promise_new_with_change_func (on_offer_applied, v, NULL));
  gst_webrtc_session_description_free (offer);
}

static void
ask_offer (FloorView *v)
{
  g_autofree char *url = g_strdup_printf ("%s/view/%s", lg.base, v->rev->pub->ref);
  g_autoptr (SoupMessage) msg = soup_message_new (SOUP_METHOD_POST, url);
  soup_session_send_and_read_async (lg.http, msg, G_PRIORITY_DEFAULT, NULL, on_offer, v);
}

void
floor_rev_start (Rev *rev)
{
  FloorView *v = g_new0 (FloorView, 1);
  v->rev = rev;
  rev->join_us = g_get_monotonic_time ();
  ask_offer (v);
}
