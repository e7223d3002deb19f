/**
 * Reads a Salesforce outbound message: a SOAP envelope holding one `notifications` element with
 * `OrganizationId`, `ActionId`, `SessionId`, the two URLs and up to 100 `Notification` elements,
 * each an `Id` and an `sObject`. This is not a general XML parser: it finds those elements by
 * name (any namespace prefix), keeps each sObject's XML exactly as sent, and refuses anything with
 * a DTD (SOAP forbids them; no entity is ever expanded). Linear in the body's size.
 */
export interface OutboundNotification {
  /** The notification's id: the same on every retry of this notification. */
  id: string;
  /** `Account`, `Opportunity`, `My_Object__c`: from the sObject's `xsi:type`. */
  sObjectType: string;
  sObjectId: string | null;
  /** The sObject's `SystemModstamp` as sent (xsd:dateTime), when the outbound message selects that field. */
  systemModstamp: string | null;
  /** The `<sObject …>…</sObject>` element, verbatim. */
  sObjectXml: string;
}

export interface OutboundMessage {
  organizationId: string;
  actionId: string | null;
  notifications: OutboundNotification[];
}

const P = "(?:[A-Za-z_][\\w.-]*:)?";
const SF_ID = /^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$/;

function element(xml: string, name: string): { start: number; inner: string; end: number } | null {
  const open = new RegExp(`<${P}${name}(?:\\s[^<>]*)?>`).exec(xml);
  if (!open) return null;
  const close = new RegExp(`</${P}${name}\\s*>`, "g");
  close.lastIndex = open.index + open[0].length;
  const end = close.exec(xml);
  if (!end) return null;
  return { start: open.index, inner: xml.slice(open.index + open[0].length, end.index), end: end.index + end[0].length };
}

function text(xml: string, name: string): string | null {
  const m = new RegExp(`<${P}${name}>([^<]*)</${P}${name}>`).exec(xml);
  return m ? (m[1] ?? "").trim() : null;
}

function notification(xml: string): OutboundNotification | null {
  const sObject = element(xml, "sObject");
  if (!sObject) return null;
  const outside = xml.slice(0, sObject.start) + xml.slice(sObject.end);
  const id = text(outside, "Id");
  if (!id || !SF_ID.test(id)) return null;
  const sObjectXml = xml.slice(sObject.start, sObject.end);
  const openTag = sObjectXml.slice(0, sObjectXml.indexOf(">") + 1);
  const type = /\s[\w.-]*:?type="(?:[\w.-]+:)?([A-Za-z][A-Za-z0-9_]{0,79})"/.exec(openTag)?.[1];
  if (!type) return null;
  const sObjectId = text(sObject.inner, "Id");
  return {
    id,
    sObjectType: type,
    sObjectId: sObjectId && SF_ID.test(sObjectId) ? sObjectId : null,
    systemModstamp: text(sObject.inner, "SystemModstamp"),
    sObjectXml,
  };
}

export function parseOutboundMessage(xml: string): OutboundMessage | null {
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) return null;
  const body = element(xml, "Body");
  const n = body ? element(body.inner, "notifications") : null;
  if (!n) return null;
  const organizationId = text(n.inner, "OrganizationId");
  if (!organizationId || !SF_ID.test(organizationId)) return null;
  const notifications: OutboundNotification[] = [];
  const open = new RegExp(`<${P}Notification(?:\\s[^<>]*)?>`, "g");
  const close = new RegExp(`</${P}Notification\\s*>`, "g");
  for (let m = open.exec(n.inner); m; m = open.exec(n.inner)) {
    close.lastIndex = m.index + m[0].length;
    const end = close.exec(n.inner);
    if (!end) return null;
    const parsed = notification(n.inner.slice(m.index + m[0].length, end.index));
    if (!parsed) return null;
    notifications.push(parsed);
    open.lastIndex = end.index + end[0].length;
  }
  if (notifications.length === 0) return null;
  return { organizationId, actionId: text(n.inner, "ActionId"), notifications };
}

/** Salesforce shows 15-character org ids and sends 18; the first 15 (case-sensitive) are the id. */
export function sameOrganization(a: string, b: string): boolean {
  return a.length >= 15 && b.length >= 15 && a.slice(0, 15) === b.slice(0, 15);
}

/** The acknowledgement Salesforce waits for; anything else and it retries (for up to 24 hours). */
export const ACK = `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">
  <soapenv:Body>
    <notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound">
      <Ack>true</Ack>
    </notificationsResponse>
  </soapenv:Body>
</soapenv:Envelope>
`;
