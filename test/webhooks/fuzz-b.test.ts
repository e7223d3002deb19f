import { intercom, klaviyo, segment, zendesk } from "./cases";
import { describeFuzz } from "./fuzz";

describeFuzz("Zendesk, Intercom, Segment, Klaviyo", [zendesk, intercom, segment, klaviyo], 0);
