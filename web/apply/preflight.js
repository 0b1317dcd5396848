// apply/preflight.js — the applicant's check before Start (issue 13): can this phone reach the
// server's WebSocket, and what candidates does it gather with the server's ICE servers (the
// invite's iceServers, the same the join gives)? Tells "no relay reachable" from "no UDP".
// Opens no media and joins nothing: a WebSocket opened and closed, and a peer connection with
// one data channel that only gathers.
import { wsUrl } from '../lib/signal.js';

const GATHER_MS = 8000;   // a bound: gathering usually completes far sooner

function reachWebSocket(timeoutMs) {
  return new Promise((resolve) => {
    let ws;
    const done = (ok) => { clearTimeout(timer); if (ws) { ws.onopen = ws.onerror = ws.onclose = null; ws.close(); } resolve(ok); };
    const timer = setTimeout(() => done(false), timeoutMs);
    try { ws = new WebSocket(wsUrl()); } catch { return done(false); }
    ws.onopen = () => done(true);
    ws.onerror = () => done(false);
    ws.onclose = () => done(false);
  });
}

// "candidate:… udp … typ srflx" → {type, protocol}; the relay's own transport (to the TURN
// server) from relayProtocol when the browser tells it, else from the TURN URL it came from
function kindOf(event) {
  const c = event.candidate;
  const f = c.candidate.split(' ');
  const type = c.type || f[7];
  const protocol = (c.protocol || f[2] || '').toLowerCase();
  let relayProtocol = c.relayProtocol || null;
  if (type === 'relay' && !relayProtocol && event.url) relayProtocol = /transport=tcp/.test(event.url) || /^turns:/.test(event.url) ? 'tcp' : 'udp';
  return { type, protocol, relayProtocol };
}

function gather(iceServers, timeoutMs) {
  return new Promise((resolve) => {
    const kinds = [];
    let pc;
    const done = () => { clearTimeout(timer); if (pc) pc.close(); resolve(kinds); };
    const timer = setTimeout(done, timeoutMs);
    try { pc = new RTCPeerConnection({ iceServers }); } catch { return done(); }
    pc.createDataChannel('check');
    pc.onicecandidate = (event) => { if (event.candidate && event.candidate.candidate) kinds.push(kindOf(event)); else if (!event.candidate) done(); };
    pc.createOffer().then((o) => pc.setLocalDescription(o)).catch(done);
  });
}

// → { result: 'ok' | 'no_server' | 'no_relay' | 'no_udp' | 'no_udp_no_relay', kinds: [...], turn, stun }
export async function preflight(iceServers) {
  const servers = Array.isArray(iceServers) ? iceServers : [];
  const urls = servers.flatMap((s) => (Array.isArray(s.urls) ? s.urls : [s.urls]));
  const turn = urls.filter((u) => /^turns?:/.test(u));
  const udpTurn = turn.filter((u) => /^turn:/.test(u) && !/transport=tcp/.test(u));
  const stun = urls.filter((u) => /^stuns?:/.test(u));
  const [wsOk, kinds] = await Promise.all([reachWebSocket(GATHER_MS), gather(servers, GATHER_MS)]);
  const relays = kinds.filter((k) => k.type === 'relay');
  // UDP leaves this network when a STUN answer or a relay reached over UDP came back
  const udpWorks = kinds.some((k) => k.type === 'srflx' || (k.type === 'relay' && k.relayProtocol === 'udp'));
  const udpTried = stun.length > 0 || udpTurn.length > 0;
  let result = 'ok';
  if (!wsOk) result = 'no_server';
  else if (turn.length && !relays.length && udpTried && !udpWorks) result = 'no_udp_no_relay';
  else if (turn.length && !relays.length) result = 'no_relay';
  else if (udpTried && !udpWorks) result = 'no_udp';
  return { result, kinds: kinds.map((k) => `${k.type}/${k.protocol}${k.relayProtocol && k.type === 'relay' ? `(${k.relayProtocol})` : ''}`), turn: turn.length, stun: stun.length };
}
