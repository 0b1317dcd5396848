/* relay_private.h — the Relay's insides, shared by relay.c, ingest.c and viewer.c only. */
#pragma once
#include "media/relay.h"
#include <gst/app/app.h>
#include "media/uplink_cap.h"

typedef struct {
  WebrtcPeer *peer;
  gulong      pad_added_id;
  GstPad     *linked_src[TRACK_COUNT];   /* webrtcbin src pads linked to the tees (streaming-thread writes under lock) */
  GstElement *talk_src;                  /* appsrc: the talk-back mix → the publisher (see relay.c) */
  guint32     video_ssrcs[4];            /* from the offer; immutable once started */
  guint       n_video_ssrcs;
  GstElement *rtpbin;                    /* webrtcbin's internal rtpbin */
  gulong      jitterbuffer_id;
  RembHook   *remb;                      /* the cap asked of the phone (set under the relay's lock) */
} RelayPublisher;

struct _RelayViewer {
  Relay      *relay;
  WebrtcPeer *peer;
  RelayBranch branch;                    /* video, audio out to the viewer: one lanes thread */
  GstPad     *sink[TRACK_COUNT];         /* webrtcbin sink pads, linked only once answered */
  GstElement *talk_chain;                /* the viewer's microphone → mixer (bin), or NULL */
  GstPad     *mixer_pad;                /* request pad on the mixer, inside the talk bin */
  GstPad     *mixer_ghost;              /* its ghost on the talk bin, which the chain links to */
  gint64      added_us;
  gint64      waiting_keyframe_since;    /* monotonic µs; 0 when not waiting */
  gint64      first_keyframe_us;
  guint       keyframe_ask;              /* keyframe_ask_add's timer while waiting, or 0 */
  gulong      pad_added_id;
  GMutex      lock;                      /* talk_chain / mixer_pad, written on a streaming thread */
  /* a WHEP watcher's payload type per track as the publisher's RTP carries it (-1: none);
   * the rewrite to its answer's own lives in the pad probe (viewer.c, on_watcher_rewrite) */
  gint        pt_from[TRACK_COUNT];
};

struct _Relay {
  const KanyanConfig *cfg;
  gchar      *name;
  GstPipeline *pipeline;
  guint       bus_watch;
  GstElement *tee[TRACK_COUNT];
  GstCaps    *caps[TRACK_COUNT];         /* relay caps of each track (what viewers are offered) */
  RtpCodec    video_codec;
  GstElement *talk_bin, *mixer, *talk_pay;
  GstPad     *talk_out_pad;              /* talk-tee → the appsink (no queue) that hands the mix over … */
  GstElement *talk_src;                  /* … to the publisher's appsrc, or NULL (under lock) */
  gboolean    talk_running;              /* the talk bin was started by a microphone (under lock) */
  gboolean    talk_gap_started;          /* the idle talk tee got its sticky events (under lock) */
  guint       talk_gap_seq;              /* RTP sequence of the idle talk tee's silent packets (under lock) */
  RelayPublisher *publisher;
  GPtrArray  *viewers;                   /* of RelayViewer* */
  guint       serial;
  guint       keyframe_timer;
  gpointer    last_keyframe_request_us;  /* monotonic µs as a pointer (atomic: any thread asks) */
  gpointer    keyframe_wanted_since;     /* monotonic µs as a pointer (atomic); 0 when nobody waits */
  gpointer    last_keyframe_seen_us;     /* monotonic µs as a pointer: written atomically by the tee probe */
  gint        media_flowing;             /* atomic */
  UplinkCap  *uplink;                    /* what the phone is asked for (uplink_cap.c) */
  gpointer    last_media_us;             /* monotonic µs of the publisher's last audio or video packet (atomic, as last_keyframe_seen_us) */
  RelayMediaNotify media_notify;
  RelayBranchNotify branch_notify;   /* shares media_owner */
  gpointer    media_owner;
  GMutex      lock;
};

void relay_publisher_free (Relay *relay, RelayPublisher *publisher);
void relay_talk_start (Relay *relay);   /* any thread: the first microphone starts the talk-back chain */
/* under the relay's lock: an element kept in NULL (locked) joins the playing pipeline */
void relay_start_late (Relay *relay, GstElement *element);
