/* reviewer-peer — a scripted Kanyan reviewer for the integration tests.
 *
 * It joins a case's live inspection over the WebSocket signaling channel
 * (docs/protocol.md) as role "reviewer", answers every server `offer` with a
 * GStreamer webrtcbin (a new `pc` value = a fresh webrtcbin), trickles ICE
 * both ways, decodes the received video and audio, and prints one JSON line
 * per second on stdout:
 *   {"event":"recording","state":"stopped"|"recording","reason":…}  (as the server says it)
 *   {"event":"state","applicant":…} and {"event":"link","who":…,"kbps":…,"quality":…}
 *     and {"event":"link_mode","mode":…} (the server's `state`, `link` and `link_mode`
 *     messages, as they come, with "type" kept)
 *   {"event":"resumed","gap_ms":N}  (a decoded frame after a second or more without one)
 *   {"t":1,"frames":N,"audio_buffers":N,"connected":bool,"pcs":N,
 *    "first_frame_ms":N|null,"connected_to_frame_ms":N|null,"errors":["code",...]}
 * first_frame_ms counts from sending `join` to the first decoded video frame;
 * connected_to_frame_ms from the peer connection's first `connected` to that frame (what a
 * keyframe request takes, without the ICE and DTLS set-up a busy machine stretches).
 * frames/audio_buffers count decoded buffers over all peer connections.
 *
 *   reviewer-peer --url ws://127.0.0.1:PORT/ws --case REF [--name N]
 *                 [--duration SECONDS] [--no-answer] [--talk] [--verbose] [--ports MIN-MAX]
 *
 * --no-answer joins but never answers (a silent reviewer); --talk sends an
 * Opus sine tone on the audio transceiver so the answer is sendrecv for audio;
 * --verbose logs every signaling message on stderr.
 * --ports MIN-MAX keeps its ICE (UDP) ports in that range, so a test's firewall can tell it apart.
 * Exits 0 after --duration seconds (a bound), or at once on SIGUSR1 (a test that saw what it
 * waited for ends the reviewer then), 1 if the WebSocket cannot be opened,
 * 2 on a usage error. UPnP is turned off in libnice; no STUN server is used.
 */
#include "reviewer_client.h"   /* the signaling and peer connections, shared with the bench */
#include <glib-unix.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct {
    /* options */
    const char *url, *case_ref, *name, *cookie;
    int duration;
    gboolean no_answer, talk, verbose;
    unsigned port_min, port_max;
    /* state (main thread unless noted) */
    GMainLoop *loop;
    SoupSession *session;
    ReviewerClient *client;
    gint64 start_us;      /* monotonic time at start */
    GPtrArray *errors;    /* error codes received */
    gint frames;          /* atomic: decoded video frames */
    gint audio_buffers;   /* atomic: decoded audio buffers */
    gint first_frame_ms;  /* atomic: -1 until the first frame */
    gint connected_ms;    /* atomic: ms from join to the first `connected`, -1 until then */
    gpointer last_frame_us; /* atomic: monotonic µs of the last decoded frame (as a pointer), 0 before */
    int exit_code;
} app = { .name = "reviewer-peer", .duration = 10, .first_frame_ms = -1, .connected_ms = -1 };

/* ---------- small helpers ---------- */

static void member_str(JsonBuilder *b, const char *name, const char *value)
{
    json_builder_set_member_name(b, name);
    json_builder_add_string_value(b, value);
}

static void member_int(JsonBuilder *b, const char *name, gint64 value)
{
    json_builder_set_member_name(b, name);
    json_builder_add_int_value(b, value);
}

/* Finish a JSON object, return its text and free the builder. */
static char *builder_finish(JsonBuilder *b)
{
    json_builder_end_object(b);
    JsonNode *root = json_builder_get_root(b);
    char *text = json_to_string(root, FALSE);
    json_node_unref(root);
    g_object_unref(b);
    return text;
}

/* ---------- media: counting what we receive ---------- */

/* Link src to sink (a pad we own a reference to, released here). */
static void link_or_warn(GstPad *src, GstPad *sink)
{
    if (!sink || gst_pad_link(src, sink) != GST_PAD_LINK_OK)
        g_printerr("reviewer-peer: cannot link %s\n", GST_PAD_NAME(src));
    if (sink)
        gst_object_unref(sink);
}

static GstPadProbeReturn count_probe(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
    gboolean video = GPOINTER_TO_INT(data);
    guint n = 1;
    (void)pad;
    if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER_LIST)
        n = gst_buffer_list_length(GST_PAD_PROBE_INFO_BUFFER_LIST(info));
    if (!video) {
        g_atomic_int_add(&app.audio_buffers, (gint)n);
        return GST_PAD_PROBE_OK;
    }
    g_atomic_int_add(&app.frames, (gint)n);
    gint64 now = g_get_monotonic_time();
    gint64 last = (gint64)GPOINTER_TO_SIZE(g_atomic_pointer_get(&app.last_frame_us));
    g_atomic_pointer_set(&app.last_frame_us, GSIZE_TO_POINTER((gsize)now));
    if (last && now - last >= G_USEC_PER_SEC) {
        /* frames again after a gap (the applicant's link came back): said at once */
        printf("{\"event\":\"resumed\",\"gap_ms\":%" G_GINT64_FORMAT "}\n", (now - last) / 1000);
        fflush(stdout);
    }
    if (g_atomic_int_get(&app.first_frame_ms) < 0) {
        gint ms = (gint)((g_get_monotonic_time() - reviewer_client_join_us(app.client)) / 1000);
        g_atomic_int_compare_and_exchange(&app.first_frame_ms, -1, ms);
    }
    return GST_PAD_PROBE_OK;
}

/* decodebin produced raw audio or video: count it into a fakesink. */
static void on_decoded_pad(GstElement *decodebin, GstPad *pad, gpointer data)
{
    GstElement *pipe = GST_ELEMENT(data);
    GstCaps *caps = gst_pad_get_current_caps(pad);
    if (!caps)
        caps = gst_pad_query_caps(pad, NULL);
    const char *name = gst_structure_get_name(gst_caps_get_structure(caps, 0));
    gboolean video = g_str_has_prefix(name, "video/");
    gboolean audio = g_str_has_prefix(name, "audio/");
    if (app.verbose)
        g_printerr("reviewer-peer: decoded %s\n", name);
    gst_caps_unref(caps);
    (void)decodebin;
    if (!video && !audio)
        return;
    GstElement *sink = gst_element_factory_make("fakesink", NULL);
    g_object_set(sink, "sync", FALSE, "async", FALSE, NULL);
    gst_bin_add(GST_BIN(pipe), sink);
    gst_element_sync_state_with_parent(sink);
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST,
                      count_probe, GINT_TO_POINTER(video), NULL);
    link_or_warn(pad, gst_element_get_static_pad(sink, "sink"));
}

/* webrtcbin exposed a received RTP stream: decode it (in the pipeline `data`). */
static void on_webrtc_pad(GstElement *webrtc, GstPad *pad, gpointer data)
{
    GstElement *pipe = data;
    (void)webrtc;
    if (GST_PAD_DIRECTION(pad) != GST_PAD_SRC)
        return;
    if (app.verbose)
        g_printerr("reviewer-peer: receiving on %s\n", GST_PAD_NAME(pad));
    GstElement *dec = gst_element_factory_make("decodebin", NULL);
    /* decodebin commits its state asynchronously (once it exposes pads): in a
     * playing pipeline that takes the whole pipeline back to PAUSED, so
     * audio would stall while video waits for its first keyframe. Keep that
     * inside decodebin. */
    g_object_set(dec, "async-handling", TRUE, NULL);
    g_signal_connect(dec, "pad-added", G_CALLBACK(on_decoded_pad), pipe);
    gst_bin_add(GST_BIN(pipe), dec);
    gst_element_sync_state_with_parent(dec);
    link_or_warn(pad, gst_element_get_static_pad(dec, "sink"));
}

/* --talk: find the offer's audio m-line and its Opus payload type. */
static gboolean find_opus(const GstSDPMessage *sdp, guint *mline, int *pt)
{
    for (guint i = 0; i < gst_sdp_message_medias_len(sdp); i++) {
        const GstSDPMedia *m = gst_sdp_message_get_media(sdp, i);
        if (g_strcmp0(gst_sdp_media_get_media(m), "audio") != 0)
            continue;
        for (guint j = 0; j < gst_sdp_media_attributes_len(m); j++) {
            const GstSDPAttribute *a = gst_sdp_media_get_attribute(m, j);
            int n = -1;
            char enc[32] = "";
            if (g_strcmp0(a->key, "rtpmap") == 0 && a->value &&
                sscanf(a->value, "%d %31[^/]", &n, enc) == 2 && g_ascii_strcasecmp(enc, "opus") == 0) {
                *mline = i;
                *pt = n;
                return TRUE;
            }
        }
    }
    return FALSE;
}

/* --talk: an Opus tone linked to the sink pad of the audio m-line, added
 * before the offer is applied so webrtcbin answers sendrecv for audio. */
static void add_talk_source(GstElement *pipe, GstElement *webrtc, const GstSDPMessage *sdp)
{
    guint mline;
    int pt;
    if (!find_opus(sdp, &mline, &pt)) {
        g_printerr("reviewer-peer: --talk: the offer has no Opus audio\n");
        return;
    }
    char *desc = g_strdup_printf(
        "audiotestsrc is-live=true wave=sine freq=660 volume=0.3 ! audioconvert ! audioresample"
        " ! opusenc ! rtpopuspay pt=%d ! queue", pt);
    GError *err = NULL;
    GstElement *bin = gst_parse_bin_from_description(desc, TRUE, &err);
    g_free(desc);
    if (!bin) {
        g_printerr("reviewer-peer: --talk: %s\n", err->message);
        g_error_free(err);
        return;
    }
    gst_bin_add(GST_BIN(pipe), bin);
    GstCaps *caps = gst_caps_new_simple("application/x-rtp", "media", G_TYPE_STRING, "audio",
                                        "encoding-name", G_TYPE_STRING, "OPUS",
                                        "clock-rate", G_TYPE_INT, 48000,
                                        "payload", G_TYPE_INT, pt, NULL);
    char *padname = g_strdup_printf("sink_%u", mline);
    GstPadTemplate *templ =
        gst_element_class_get_pad_template(GST_ELEMENT_GET_CLASS(webrtc), "sink_%u");
    GstPad *srcpad = gst_element_get_static_pad(bin, "src");
    link_or_warn(srcpad, gst_element_request_pad(webrtc, templ, padname, caps));
    gst_object_unref(srcpad);
    gst_caps_unref(caps);
    g_free(padname);
}

/* rtpbin's thread for a session's first SSRC: its receiver reports every second, as a browser
 * reviewer's (Chromium reports video each second; GStreamer's default minimum is 5 s). The
 * server judges a reviewer's link from these reports (uplink_cap.c): a peer reporting five
 * times less often than the client it stands for would test a slower server than users get. */
static void on_new_ssrc(GstElement *rtpbin, guint session, guint ssrc, gpointer data)
{
    (void)ssrc;
    (void)data;
    GObject *internal = NULL;
    g_signal_emit_by_name(rtpbin, "get-internal-session", session, &internal);
    if (internal) {
        g_object_set(internal, "rtcp-min-interval", (guint64)GST_SECOND, NULL);
        g_object_unref(internal);
    }
}

/* ---------- the client's events ---------- */

static void on_pc_new(gpointer owner, GstElement *pipe, GstElement *webrtc, const GstSDPMessage *offer)
{
    (void)owner;
    g_signal_connect(webrtc, "pad-added", G_CALLBACK(on_webrtc_pad), pipe);
    GstElement *rtpbin = gst_bin_get_by_name(GST_BIN(webrtc), "rtpbin");
    if (rtpbin) {
        g_signal_connect(rtpbin, "on-new-ssrc", G_CALLBACK(on_new_ssrc), NULL);
        gst_object_unref(rtpbin);
    }
    if (app.talk)
        add_talk_source(pipe, webrtc, offer);
}

/* webrtcbin thread */
static void on_pc_state(gpointer owner, GstWebRTCPeerConnectionState st)
{
    (void)owner;
    if (st == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED && g_atomic_int_get(&app.connected_ms) < 0)
        g_atomic_int_compare_and_exchange(&app.connected_ms, -1,
                                          (gint)((g_get_monotonic_time() - reviewer_client_join_us(app.client)) / 1000));
}

static void on_message(gpointer owner, const char *t, JsonObject *o)
{
    (void)owner;
    if (strcmp(t, "error") == 0) {
        const char *code = json_object_get_string_member_with_default(o, "code", "?");
        g_ptr_array_add(app.errors, g_strdup(code));
        g_printerr("reviewer-peer: error %s: %s\n", code,
                   json_object_get_string_member_with_default(o, "message", ""));
    } else if (strcmp(t, "recording") == 0) {
        /* the recording's state (stopped on a write failure, resumed): one stdout line each */
        JsonBuilder *b = json_builder_new();
        json_builder_begin_object(b);
        member_str(b, "event", "recording");
        member_str(b, "state", json_object_get_string_member_with_default(o, "state", ""));
        member_str(b, "reason", json_object_get_string_member_with_default(o, "reason", ""));
        char *line = builder_finish(b);
        puts(line);
        fflush(stdout);
        g_free(line);
    } else if (strcmp(t, "state") == 0 || strcmp(t, "link") == 0 || strcmp(t, "link_mode") == 0) {
        JsonObject *copy = json_object_ref(o);
        json_object_set_string_member(copy, "event", json_object_get_string_member(copy, "type"));
        JsonNode *node = json_node_new(JSON_NODE_OBJECT);
        json_node_set_object(node, copy);
        char *line = json_to_string(node, FALSE);
        puts(line);
        fflush(stdout);
        g_free(line);
        json_node_unref(node);
        json_object_unref(copy);
    } else if (strcmp(t, "bye") == 0) {
        g_printerr("reviewer-peer: bye (%s)\n",
                   json_object_get_string_member_with_default(o, "reason", ""));
    }
}

static void on_failed(gpointer owner, const GError *error)
{
    (void)owner, (void)error;
    app.exit_code = 1;
    g_main_loop_quit(app.loop);
}

/* ---------- the once-a-second report ---------- */

static gboolean on_tick(gpointer data)
{
    double elapsed = (double)(g_get_monotonic_time() - app.start_us) / G_USEC_PER_SEC;
    gboolean connected = reviewer_client_connected(app.client);
    int ffm = g_atomic_int_get(&app.first_frame_ms);
    JsonBuilder *b = json_builder_new();
    (void)data;
    json_builder_begin_object(b);
    member_int(b, "t", (gint64)(elapsed + 0.5));
    member_int(b, "frames", g_atomic_int_get(&app.frames));
    member_int(b, "audio_buffers", g_atomic_int_get(&app.audio_buffers));
    json_builder_set_member_name(b, "connected");
    json_builder_add_boolean_value(b, connected);
    member_int(b, "pcs", reviewer_client_pcs(app.client));
    json_builder_set_member_name(b, "first_frame_ms");
    if (ffm < 0)
        json_builder_add_null_value(b);
    else
        json_builder_add_int_value(b, ffm);
    int cm = g_atomic_int_get(&app.connected_ms);
    json_builder_set_member_name(b, "connected_to_frame_ms");
    if (ffm < 0 || cm < 0)
        json_builder_add_null_value(b);
    else
        json_builder_add_int_value(b, MAX(ffm - cm, 0));
    json_builder_set_member_name(b, "errors");
    json_builder_begin_array(b);
    for (guint i = 0; i < app.errors->len; i++)
        json_builder_add_string_value(b, g_ptr_array_index(app.errors, i));
    json_builder_end_array(b);
    char *line = builder_finish(b);
    puts(line);
    fflush(stdout);
    g_free(line);
    if (elapsed + 0.5 >= app.duration) {
        g_main_loop_quit(app.loop);
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

/* main loop: SIGUSR1, "leave now": the last stats line, then the same exit as at the end */
static gboolean on_leave_now(gpointer data)
{
    (void)data;
    app.duration = 0;
    on_tick(NULL);
    return G_SOURCE_REMOVE;
}

static void usage(void)
{
    fprintf(stderr, "usage: reviewer-peer --url ws://HOST:PORT/ws --case REF [--name N]"
                    " [--duration SECONDS] [--cookie 'kanyan_session=…'] [--no-answer] [--talk] [--verbose]"
                    " [--ports MIN-MAX]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    gst_init(&argc, &argv);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--no-answer") == 0) app.no_answer = TRUE;
        else if (strcmp(a, "--verbose") == 0) app.verbose = TRUE;
        else if (strcmp(a, "--talk") == 0) app.talk = TRUE;
        else if (!v) usage();
        else if (strcmp(a, "--url") == 0) app.url = v, i++;
        else if (strcmp(a, "--case") == 0) app.case_ref = v, i++;
        else if (strcmp(a, "--name") == 0) app.name = v, i++;
        else if (strcmp(a, "--cookie") == 0) app.cookie = v, i++;
        else if (strcmp(a, "--duration") == 0) app.duration = atoi(v), i++;
        else if (strcmp(a, "--ports") == 0) {
            if (sscanf(v, "%u-%u", &app.port_min, &app.port_max) != 2 || !app.port_min || app.port_max < app.port_min)
                usage();
            i++;
        } else usage();
    }
    if (!app.url || !app.case_ref || app.duration <= 0)
        usage();

    app.errors = g_ptr_array_new_with_free_func(g_free);
    app.loop = g_main_loop_new(NULL, FALSE);
    app.session = soup_session_new();
    soup_session_set_proxy_resolver(app.session, NULL); /* local server: never a proxy */
    const ReviewerOptions opt = { .url = app.url, .cookie = app.cookie, .case_ref = app.case_ref,
                                  .name = app.name, .log_name = "reviewer-peer",
                                  .no_answer = app.no_answer, .verbose = app.verbose,
                                  .port_min = app.port_min, .port_max = app.port_max };
    const ReviewerEvents events = { .pc_new = on_pc_new, .pc_state = on_pc_state, .message = on_message,
                                    .failed = on_failed };
    app.client = reviewer_client_start(app.session, &opt, &events, NULL);
    if (!app.client) {
        fprintf(stderr, "reviewer-peer: bad --url %s\n", app.url);
        return 2;
    }
    app.start_us = g_get_monotonic_time();
    g_timeout_add(1000, on_tick, NULL);
    g_unix_signal_add(SIGUSR1, on_leave_now, NULL);
    g_main_loop_run(app.loop);

    reviewer_client_leave(app.client, TRUE);
    fflush(stdout);
    /* Do not wait for webrtcbin teardown (it can hang in 1.22.0): exit now. */
    _Exit(app.exit_code);
}
