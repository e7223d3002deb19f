import { amplitude, meta, salesforce } from "./cases";
import { describeFuzz } from "./fuzz";

describeFuzz("Meta, Salesforce, Amplitude, and random requests to any route", [meta, salesforce, amplitude], 400);
