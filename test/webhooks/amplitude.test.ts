import { describe, expect, it } from "vitest";
import { toEnvelopes } from "../../src/pollers/stepped-run";
import { amplitudeExportStream } from "../../src/sources/amplitude/poll";
import { amplitudeVersionTime } from "../../src/sources/amplitude/reconcile";
import { toRecord } from "../../src/sources/amplitude/export-stream";
import { anAmplitudeEvent } from "../sources/amplitude-fixtures";
import { aMarker, deliver, describeWebhookContract, waitForMarker } from "./support";
import { anEvent, amplitude } from "./cases";

const secretHeader = () => amplitude.sign("", { secret: amplitude.secret, nowSeconds: 0 });

/** The envelope the hourly export poll makes of this exported line. */
async function polledAs(line: string) {
  const [record] = await toEnvelopes("amplitude", amplitudeExportStream, "poll", new Date().toISOString(), "poll-run", [
    toRecord({ file: "187520/187520_2026-12-06_3#0.json.gz", line: 1, text: line }),
  ]);
  return JSON.parse(record?.line ?? "")._dock as { id: string; key: string; version: string };
}

describeWebhookContract(amplitude);

describe("POST /webhooks/amplitude — specifics", () => {
  it("given an event without server_upload_time, when it lands, then it keeps the old filing: keyed and deduped by insert_id under events", async () => {
    const marker = aMarker("amp");
    expect((await deliver(amplitude, anEvent(marker), await amplitude.sign("", { secret: amplitude.secret, nowSeconds: 0 }))).status).toBe(
      200,
    );
    const [line] = await waitForMarker("amplitude", marker, 1);
    expect(JSON.parse(line ?? "")._dock).toMatchObject({ stream: "events", key: `ins-${marker}`, version: `ins-${marker}` });
  });

  it("given an event forwarded in the export format (uuid, server_upload_time), when it lands, then it is filed as the Export API files it: export_events, keyed by uuid, with the export poll's version and _dock.id", async () => {
    const marker = aMarker("ampx");
    const { event } = anAmplitudeEvent(7, "20261206T03");
    const line = JSON.stringify({
      ...event,
      uuid: `${event.uuid.slice(0, -12)}${marker.slice(-12).padStart(12, "0")}`,
      event_properties: { marker },
    });
    expect((await deliver(amplitude, line, await secretHeader())).status).toBe(200);
    const [landed] = await waitForMarker("amplitude", marker, 1);
    const dock = JSON.parse(landed ?? "")._dock;
    const polled = await polledAs(line);
    expect(dock).toMatchObject({ stream: "export_events", key: polled.key, version: polled.version, id: polled.id });
    expect(amplitudeVersionTime(dock.version)).toBe(Date.parse("2026-12-06T03:07:07.123Z"));
  });

  it("given a template that sends uuid and server_upload_time with other fields, when it lands, then it is under export_events keyed by uuid at the same time, with its own _dock.id (its bytes are not the exported line's)", async () => {
    const marker = aMarker("ampt");
    const { event } = anAmplitudeEvent(8, "20261206T03");
    const uuid = `${event.uuid.slice(0, -12)}${marker.slice(-12).padStart(12, "0")}`;
    const exported = JSON.stringify({ ...event, uuid, event_properties: { marker } });
    const templated = JSON.stringify({ uuid, server_upload_time: event.server_upload_time, event_type: event.event_type, marker });
    expect((await deliver(amplitude, templated, await secretHeader())).status).toBe(200);
    const [landed] = await waitForMarker("amplitude", marker, 1);
    const dock = JSON.parse(landed ?? "")._dock;
    const polled = await polledAs(exported);
    expect(dock).toMatchObject({ stream: "export_events", key: uuid });
    expect(dock.id).not.toBe(polled.id);
    expect(amplitudeVersionTime(dock.version)).toBe(amplitudeVersionTime(polled.version));
  });

  it("given an event whose template writes server_upload_time in another format, when it lands, then it keeps the old filing (events, by insert_id): not comparable with the export", async () => {
    const marker = aMarker("ampi");
    const body = JSON.stringify({ insert_id: `ins-${marker}`, uuid: `uuid-${marker}`, server_upload_time: "2026-12-06T03:07:07Z" });
    expect((await deliver(amplitude, body, await secretHeader())).status).toBe(200);
    const [landed] = await waitForMarker("amplitude", marker, 1);
    expect(JSON.parse(landed ?? "")._dock).toMatchObject({ stream: "events", key: `ins-${marker}`, version: `ins-${marker}` });
  });

  it.each([
    ["a prefix of the secret", "amplitude-header"],
    ["the secret with a suffix", "amplitude-header-secret-test!"],
    ["the secret as a Bearer token in another header", "Bearer amplitude-header-secret-test"],
  ])("given %s, then 401", async (_name, value) => {
    const res = await deliver(amplitude, anEvent(aMarker("x")), { headers: { "x-webhook-secret": value } });
    expect(res.status).toBe(401);
  });

  it("given the secret in the Authorization header instead of the configured one, then 401", async () => {
    const res = await deliver(amplitude, anEvent(aMarker("auth")), { headers: { authorization: "Bearer amplitude-header-secret-test" } });
    expect(res.status).toBe(401);
  });
});
