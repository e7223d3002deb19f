/** Rows and answers shaped like googleAds:search's REST JSON (camelCase fields, int64 as strings). */

export function aCampaignDay(customer: string, campaign: string, date: string) {
  const row = {
    customer: { resourceName: `customers/${customer}`, id: customer, currencyCode: "EUR", timeZone: "Europe/Berlin" },
    campaign: {
      resourceName: `customers/${customer}/campaigns/${campaign}`,
      id: campaign,
      name: `Campaign ${campaign}`,
      status: "ENABLED",
      advertisingChannelType: "SEARCH",
    },
    metrics: { impressions: "1200", clicks: "48", costMicros: "35120000", conversions: 3, conversionsValue: 210.5, allConversions: 3 },
    segments: { date },
  };
  const builder = {
    withConversions(n: number) {
      row.metrics.conversions = n;
      row.metrics.allConversions = n;
      return builder;
    },
    build: () => row,
  };
  return builder;
}

export function aSearchAnswer(rows: unknown[] = []) {
  let token: string | undefined;
  const builder = {
    withNextPageToken(t: string) {
      token = t;
      return builder;
    },
    /** An empty answer has no `results` at all, as the API sends it. */
    json: () =>
      JSON.stringify({
        ...(rows.length > 0 ? { results: rows } : {}),
        fieldMask: "customer.id,campaign.id,segments.date,metrics.clicks",
        ...(token ? { nextPageToken: token } : {}),
        requestId: "req-fixture",
        queryResourceConsumption: "120",
      }),
  };
  return builder;
}

export function aChangeStatusRow(
  customer: string,
  type: "CAMPAIGN" | "AD_GROUP",
  id: string,
  status: "ADDED" | "CHANGED" | "REMOVED",
  at: string,
) {
  const entity = `customers/${customer}/${type === "CAMPAIGN" ? "campaigns" : "adGroups"}/${id}`;
  return {
    changeStatus: {
      resourceName: `customers/${customer}/changeStatus/${id}~${at.replace(/\D/g, "")}`,
      lastChangeDateTime: at,
      resourceType: type,
      resourceStatus: status,
      ...(type === "CAMPAIGN" ? { campaign: entity } : { adGroup: entity, campaign: `customers/${customer}/campaigns/9` }),
    },
  };
}

/** The REST error of a spent quota: HTTP 429, RESOURCE_EXHAUSTED, the wait in quotaErrorDetails. */
export function aResourceExhausted(retryDelay: string) {
  return JSON.stringify({
    error: {
      code: 429,
      message: "Resource has been exhausted (e.g. check quota).",
      status: "RESOURCE_EXHAUSTED",
      details: [
        {
          "@type": "type.googleapis.com/google.ads.googleads.v21.errors.GoogleAdsFailure",
          errors: [
            {
              errorCode: { quotaError: "RESOURCE_EXHAUSTED" },
              message: `Too many requests. Retry in ${retryDelay}.`,
              details: { quotaErrorDetails: { rateScope: "ACCOUNT", rateName: "Requests per service per method", retryDelay } },
            },
          ],
          requestId: "req-quota",
        },
      ],
    },
  });
}

export function aTokenAnswer(token: string) {
  return JSON.stringify({ access_token: token, expires_in: 3599, scope: "https://www.googleapis.com/auth/adwords", token_type: "Bearer" });
}
