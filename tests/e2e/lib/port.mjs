// A port for a server a test starts. tests/netns.sh reserves 51000-60999 in its namespace: the
// kernel gives none of them to an outgoing connection or a listen on port 0, so a port found
// free here is still free when the server binds it a moment later (one from listen(0) was not).
import { createServer } from 'node:net';

const TEST_PORTS = [51000, 61000];

const isFree = (port) => new Promise((resolve) => {
  const srv = createServer();
  srv.once('error', () => resolve(false));
  srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
});

export async function freePort() {
  for (;;) {
    const port = TEST_PORTS[0] + Math.floor(Math.random() * (TEST_PORTS[1] - TEST_PORTS[0]));
    if (await isFree(port)) return port;
  }
}
