import { describe, expect, it } from "vitest";
import { signV4 } from "./lib/sigv4.mjs";

// The worked examples of AWS's "Signature Version 4: Authenticating requests (AWS SDK-free)" S3
// documentation: the same credentials, time and requests must give the signatures printed there.
const example = {
  accessKeyId: "AKIAIOSFODNN7EXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
  region: "us-east-1",
  now: new Date("2013-05-24T00:00:00Z"),
};

describe("SigV4 signing for R2's S3 API", () => {
  it("given AWS's GET Object example (a Range header), then the signature is the documented one", () => {
    const headers = signV4({
      method: "GET",
      url: "https://examplebucket.s3.amazonaws.com/test.txt",
      headers: { Range: "bytes=0-9" },
      ...example,
    });
    expect(headers.authorization).toBe(
      "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
    );
    expect(headers["x-amz-date"]).toBe("20130524T000000Z");
  });

  it("given AWS's list objects example (query parameters out of order), then the signature is the documented one", () => {
    const headers = signV4({ method: "GET", url: "https://examplebucket.s3.amazonaws.com/?max-keys=2&prefix=J", ...example });
    expect(headers.authorization).toMatch(/,Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7$/);
  });

  it("given AWS's GET bucket lifecycle example (a parameter without a value), then the signature is the documented one", () => {
    const headers = signV4({ method: "GET", url: "https://examplebucket.s3.amazonaws.com/?lifecycle", ...example });
    expect(headers.authorization).toMatch(/,Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543$/);
  });
});
