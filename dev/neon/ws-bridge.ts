// Neon's WebSocket protocol: GET /v2?address=host:port upgrades to a WebSocket whose binary frames
// carry raw Postgres wire-protocol bytes. We pipe them to a TCP connection to our own backend.
import type { IncomingMessage } from "node:http";
import { connect } from "node:net";
import type { Duplex } from "node:stream";
import { WebSocket, WebSocketServer } from "ws";

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const TERMINATE = 0x58; // 'X'
const MAX_MESSAGE = 1 << 30; // Postgres' own limit; anything bigger means we lost sync

export interface FrontendMessage {
  /** "ssl" = SSLRequest/GSSENCRequest (answered locally), "startup" = untyped startup-phase message. */
  kind: "ssl" | "startup" | "typed";
  type?: number;
  bytes: Buffer;
}

/** Splits the client→server stream at message boundaries (the first messages carry no type byte). */
export class FrontendParser {
  private buf: Buffer = Buffer.alloc(0);
  private inStartup = true;

  push(chunk: Buffer): FrontendMessage[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: FrontendMessage[] = [];
    for (;;) {
      const head = this.inStartup ? 0 : 1; // typed messages: 1 type byte, then int32 length (incl. itself)
      if (this.buf.length < head + 4) break;
      const len = this.buf.readInt32BE(head);
      if (len < 4 || len > MAX_MESSAGE) throw new Error(`bad Postgres message length ${len}`);
      if (this.buf.length < head + len) break;
      const bytes = this.buf.subarray(0, head + len);
      this.buf = this.buf.subarray(head + len);
      if (this.inStartup) {
        const code = len >= 8 ? bytes.readInt32BE(4) : 0;
        if (len === 8 && (code === SSL_REQUEST || code === GSSENC_REQUEST)) {
          out.push({ kind: "ssl", bytes });
        } else {
          // StartupMessage (or CancelRequest); everything after it is typed.
          this.inStartup = false;
          out.push({ kind: "startup", bytes });
        }
      } else {
        out.push({ kind: "typed", type: bytes[0], bytes });
      }
    }
    return out;
  }
}

export interface WsBridge {
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Bridges whose WebSocket or backend TCP connection is still open. */
  openConnections(): number;
  closeAll(): void;
}

/**
 * `delayMs` holds back each message the client sends by that long (in order, as timers of one duration fire in the
 * order they were set): a query and its answer then take one delay more, as over a distant link.
 */
export function createWsBridge(target: { host: string; port: number }, log: (line: string) => void, delayMs = 0): WsBridge {
  const wss = new WebSocketServer({ noServer: true });
  const open = new Set<() => void>(); // each entry force-closes one bridge

  function bridge(ws: WebSocket): void {
    const tcp = connect(target.port, target.host); // writes before 'connect' are queued by net
    tcp.setNoDelay(true);
    const parser = new FrontendParser();
    let tcpClosed = false;
    let wsClosed = false;
    const kill = () => {
      tcp.destroy();
      ws.terminate();
    };
    open.add(kill);
    const settle = () => {
      if (tcpClosed && wsClosed) open.delete(kill);
    };
    // Close both sides; a graceful ws.close() lets the driver see a normal close.
    const shutdown = () => {
      if (!tcp.destroyed) tcp.end();
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(1000);
    };

    const fromClient = (data: Buffer) => {
      if (!tcp.writable) return; // the tunnel closed while this message was held back by the delay
      // binaryType is the default "nodebuffer", so every frame (binary or text) arrives as one Buffer.
      let msgs: FrontendMessage[];
      try {
        msgs = parser.push(data);
      } catch (err) {
        log(`neon: ws bridge protocol error: ${(err as Error).message}`);
        return kill();
      }
      const forward: Buffer[] = [];
      for (const m of msgs) {
        if (m.kind === "ssl") {
          ws.send(Buffer.from("N")); // no TLS inside the tunnel: client continues in plaintext
        } else if (m.type === TERMINATE) {
          // The driver keeps its WebSocket open after Terminate, so we must hang up ourselves,
          // or every pooled connection would leak a backend session.
          forward.push(m.bytes);
          tcp.end(Buffer.concat(forward));
          ws.close(1000);
          return;
        } else {
          forward.push(m.bytes);
        }
      }
      if (forward.length && !tcp.destroyed) tcp.write(Buffer.concat(forward));
    };
    ws.on("message", (data: Buffer) => (delayMs > 0 ? setTimeout(fromClient, delayMs, data) : fromClient(data)));
    tcp.on("data", (data) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(data);
    });

    ws.on("close", () => {
      wsClosed = true;
      shutdown();
      settle();
    });
    ws.on("error", (err) => {
      log(`neon: ws bridge websocket error: ${err.message}`);
      kill();
    });
    tcp.on("close", () => {
      tcpClosed = true;
      shutdown();
      settle();
    });
    tcp.on("error", (err) => {
      log(`neon: ws bridge backend error: ${err.message}`);
      kill();
    });
  }

  return {
    handleUpgrade(req, socket, head) {
      socket.on("error", () => {}); // Node drops its own socket error handler on upgrade; a reset must not crash us
      const path = new URL(req.url ?? "/", "http://x").pathname;
      if (path !== "/v2" && path !== "/v2/") {
        socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
        return;
      }
      // The requested ?address= is ignored: every tunnel goes to our backend.
      wss.handleUpgrade(req, socket, head, (ws) => bridge(ws));
    },
    openConnections: () => open.size,
    closeAll() {
      for (const kill of [...open]) kill();
      wss.close();
    },
  };
}
