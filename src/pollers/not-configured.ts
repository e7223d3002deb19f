import { PollFailure } from "./http";

/**
 * A setting the source needs is unset or unusable (its base URL's variable, a credential). Retrying
 * cannot fix it, so the run fails — not the job — and `settings` names what to set: each entry is a
 * variable, or alternatives joined by " or ".
 */
export class NotConfigured extends PollFailure {
  constructor(
    message: string,
    readonly settings: string[] = [],
  ) {
    super(message);
  }
}

/**
 * A setting is there but unusable (a base URL that is not an http(s) URL). Unlike an unset one,
 * the operator meant the source to run: it is scheduled, and its runs fail saying what is wrong.
 */
export class InvalidSetting extends NotConfigured {}
