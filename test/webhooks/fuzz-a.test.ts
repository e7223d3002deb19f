import { github, hubspot, shopify, svix } from "./cases";
import { describeFuzz } from "./fuzz";

describeFuzz("Svix, GitHub, HubSpot, Shopify", [svix, github, hubspot, shopify], 0);
