import { Gunzip, Unzip, UnzipInflate, type UnzipFile } from "fflate";

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
  private readonly unzip: Unzip;
  private ready: ExportLine[] = [];
  private failure: Error | null = null;
  private open = 0;
  readonly files: string[] = [];

  constructor() {
    this.unzip = new Unzip((file) => this.onFile(file));
    this.unzip.register(UnzipInflate);
  }

  push(chunk: Uint8Array, final = false): void {
    if (this.failure) throw this.failure;
    try {
      this.unzip.push(chunk, final);
    } catch (err) {
      this.failure = new CorruptArchive(`the ZIP archive cannot be read: ${(err as Error).message}`);
    }
    if (this.failure) throw this.failure;
    if (final && this.open > 0) throw new CorruptArchive(`the archive ended inside ${this.files[this.files.length - 1]}`);
  }

  /** The lines produced since the last call. */
  take(): ExportLine[] {
    const out = this.ready;
    this.ready = [];
    return out;
  }

  private onFile(file: UnzipFile): void {
    const name = file.name;
    if (name.endsWith("/")) {
      file.ondata = () => {};
      file.start();
      return;
    }
    this.files.push(name);
    this.open++;
    const lines = new LineSplitter(name, (line) => this.ready.push(line));
    const gz = name.endsWith(".gz")
      ? new Gunzip((data, final) => {
          lines.push(data);
          if (final) lines.end();
        })
      : null;
    file.ondata = (err, data, final) => {
      if (err) {
        this.failure = new CorruptArchive(`${name}: ${err.message}`);
        return;
      }
      try {
        if (gz) gz.push(data, final);
        else {
          lines.push(data);
          if (final) lines.end();
        }
      } catch (e) {
        this.failure = new CorruptArchive(`${name} is not valid gzip: ${(e as Error).message}`);
        return;
      }
      if (final) this.open--;
    };
    file.start();
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
