import { Gunzip } from "fflate";
import { ZipEntries } from "./zip-entries";

/** One line of an export: which file of the archive it came from and its 1-based line number there. */
export interface ExportLine {
  file: string;
  line: number;
  text: string;
}

/** The archive (or a file inside it) cannot be read: the run fails rather than drop what it holds. */
export class CorruptArchive extends Error {}

/**
 * Streams a ZIP of gzipped JSON-lines files (Amplitude's export) into lines, one pushed chunk at a
 * time: nothing but the current chunk, the inflaters' windows and the lines of that chunk is held.
 * `push` returns synchronously; the caller takes the lines it produced with `take()` and may await
 * their delivery before pushing the next chunk, which is all the back-pressure a stream needs.
 * Plain `.json` files in the archive are split too; directories are skipped.
 */
export class ZipJsonLines {
  private readonly entries: ZipEntries;
  private ready: ExportLine[] = [];
  private failure: Error | null = null;
  /** The entry being read: where its bytes go. */
  private current: { push(data: Uint8Array, final: boolean): void } | null = null;
  readonly files: string[] = [];

  constructor() {
    this.entries = new ZipEntries({
      start: (name) => this.onFile(name),
      data: (bytes) => this.current?.push(bytes, false),
      end: () => {
        this.current?.push(new Uint8Array(0), true);
        this.current = null;
      },
    });
  }

  push(chunk: Uint8Array, final = false): void {
    if (this.failure) throw this.failure;
    try {
      this.entries.push(chunk, final);
    } catch (err) {
      this.failure = err instanceof CorruptArchive ? err : new CorruptArchive(`the ZIP archive cannot be read: ${(err as Error).message}`);
    }
    if (this.failure) throw this.failure;
  }

  /** The lines produced since the last call. */
  take(): ExportLine[] {
    const out = this.ready;
    this.ready = [];
    return out;
  }

  private onFile(name: string): void {
    if (name.endsWith("/")) {
      this.current = null;
      return;
    }
    this.files.push(name);
    const lines = new LineSplitter(name, (line) => this.ready.push(line));
    const gz = name.endsWith(".gz")
      ? new Gunzip((data, final) => {
          lines.push(data);
          if (final) lines.end();
        })
      : null;
    this.current = {
      push: (data, final) => {
        if (!gz) {
          lines.push(data);
          if (final) lines.end();
          return;
        }
        try {
          gz.push(data, final);
        } catch (e) {
          throw new CorruptArchive(`${name} is not valid gzip: ${(e as Error).message}`);
        }
      },
    };
  }
}

/** Bytes to lines across chunk boundaries (UTF-8 safe); a final line without "\n" counts; blank lines do not. */
class LineSplitter {
  private readonly decoder = new TextDecoder("utf-8");
  private partial = "";
  private count = 0;

  constructor(
    private readonly file: string,
    private readonly sink: (line: ExportLine) => void,
  ) {}

  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    const text = this.partial + this.decoder.decode(bytes, { stream: true });
    let start = 0;
    for (let nl = text.indexOf("\n"); nl !== -1; nl = text.indexOf("\n", start)) {
      this.emit(text.slice(start, nl));
      start = nl + 1;
    }
    this.partial = text.slice(start);
  }

  end(): void {
    const rest = this.partial + this.decoder.decode();
    this.partial = "";
    if (rest !== "") this.emit(rest);
  }

  private emit(raw: string): void {
    this.count++;
    const text = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (text.trim() !== "") this.sink({ file: this.file, line: this.count, text });
  }
}
