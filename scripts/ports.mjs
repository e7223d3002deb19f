import { createServer } from "node:net";

/** Whether a TCP listener can bind host:port right now. */
export function canListen(port, host = "127.0.0.1") {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

function osAssignedPort(host) {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen({ port: 0, host, exclusive: true }, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * A port to listen on: an asked-for one as is (refused with a clear error when it is taken: the
 * user named it), else the default or one of the nine after it, else one the OS hands out.
 * `claimed` holds ports already picked for another listener of the same start.
 */
export async function pickPort({ what, flag, asked, preferred, claimed = new Set(), host = "127.0.0.1" }) {
  if (asked !== undefined) {
    if (!(await canListen(asked, host)))
      throw new Error(`${what}'s port ${asked} (${flag}) is in use: free it, or leave ${flag} out to pick a free one`);
    claimed.add(asked);
    return asked;
  }
  for (let port = preferred; port < preferred + 10; port++) {
    if (claimed.has(port) || !(await canListen(port, host))) continue;
    claimed.add(port);
    return port;
  }
  for (;;) {
    const port = await osAssignedPort(host);
    if (!claimed.has(port)) {
      claimed.add(port);
      return port;
    }
  }
}
