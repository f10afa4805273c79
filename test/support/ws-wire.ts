import type net from 'node:net';

/** One websocket frame as the server put it on the wire. */
export interface WireFrame { fin: boolean; opcode: number; payload: Buffer }

/**
 * Reads a websocket server's frames off a bare TCP socket whose upgrade request was written
 * by the caller: skips the 101 answer, then hands each frame to `onFrame` as it is on the
 * wire (not reassembled), so tests can check how messages are framed.
 */
export function readWireFrames(tcp: net.Socket, onFrame: (f: WireFrame) => void): void {
  let buf = Buffer.alloc(0);
  let upgraded = false;
  tcp.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    if (!upgraded) {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      upgraded = true;
      buf = buf.subarray(end + 4);
    }
    for (;;) {
      if (buf.length < 2) return;
      let len = buf[1]! & 0x7f;
      let at = 2;
      if (len === 126) { if (buf.length < 4) return; len = buf.readUInt16BE(2); at = 4; } else if (len === 127) { if (buf.length < 10) return; len = Number(buf.readBigUInt64BE(2)); at = 10; }
      if (buf.length < at + len) return;
      onFrame({ fin: (buf[0]! & 0x80) !== 0, opcode: buf[0]! & 0x0f, payload: Buffer.from(buf.subarray(at, at + len)) });
      buf = buf.subarray(at + len);
    }
  });
}
