// review/codec_check.js — can this browser decode the video the server offers? The server relays
// the phone's video as it comes (no transcoding), so a desk whose browser lacks that codec (Debian's
// Firefox ESR has no H.264 without the OpenH264 plug-in, which it cannot fetch offline) would show
// a black picture and no reason. Reads the offer's SDP and the browser's receive capabilities.

// the video codecs an SDP offers, by name (H264, VP8, …), without the repair formats
export function offeredVideoCodecs(sdp) {
  const names = new Set();
  let inVideo = false;
  for (const line of sdp.split(/\r?\n/)) {
    if (line.startsWith('m=')) inVideo = line.startsWith('m=video');
    const m = inVideo && /^a=rtpmap:\d+ ([^/]+)\//.exec(line);
    if (m && !/^(rtx|red|ulpfec|flexfec-03)$/i.test(m[1])) names.add(m[1].toUpperCase());
  }
  return [...names];
}

// the offered codec this browser cannot decode (when it can decode none of them), else null
export function unplayableVideo(sdp) {
  const offered = offeredVideoCodecs(sdp);
  if (!offered.length || typeof RTCRtpReceiver === 'undefined' || !RTCRtpReceiver.getCapabilities) return null;
  const caps = RTCRtpReceiver.getCapabilities('video');
  if (!caps) return null;
  const can = new Set(caps.codecs.map((c) => c.mimeType.replace(/^video\//i, '').toUpperCase()));
  return offered.some((name) => can.has(name)) ? null : offered[0];
}
