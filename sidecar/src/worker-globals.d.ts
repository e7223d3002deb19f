// Names the Worker's shared code (src/lib/crypto.ts, reached through src/envelope) uses from the
// Workers runtime types; in Node they are the WebCrypto types of node:crypto.
type CryptoKey = import("node:crypto").webcrypto.CryptoKey;
type SubtleCrypto = import("node:crypto").webcrypto.SubtleCrypto;
type BufferSource = ArrayBufferView | ArrayBuffer;
