/**
 * The retransmission timeout estimator of RFC 6298: SRTT and RTTVAR from RTT samples (alpha 1/8,
 * beta 1/4, K = 4, clock granularity G = 1 ms), an initial RTO of 1 s, exponential backoff that
 * doubles the RTO on each expiry, and bounds [minRto, maxRto].
 *
 * RFC 6298 2.4 says the RTO should be rounded up to 1 s; like Linux, the default minimum here is
 * 200 ms (configurable) and the maximum 120 s (TCP_RTO_MAX). Karn's rule (samples only from
 * segments never retransmitted) is the caller's: it decides which segment it times.
 */
import type { Nanos } from '../../sim/index.js';

export interface RtoOptions {
  /** Lower bound of the RTO (default 200 ms, as Linux; RFC 6298 recommends 1 s). */
  readonly minRto?: Nanos;
  /** Upper bound of the RTO after backoff (default 120 s, as Linux). */
  readonly maxRto?: Nanos;
  /** RTO before the first sample (default 1 s, RFC 6298 2.1). */
  readonly initialRto?: Nanos;
}

export const DEFAULT_MIN_RTO: Nanos = 200e6;
export const DEFAULT_MAX_RTO: Nanos = 120e9;
export const DEFAULT_INITIAL_RTO: Nanos = 1e9;
const GRANULARITY: Nanos = 1e6;

export class RtoEstimator {
  /** Smoothed RTT, null before the first sample. */
  srtt: Nanos | null = null;
  rttvar: Nanos = 0;
  /** The RTO without backoff. */
  private base: Nanos;
  /** Number of doublings since the last sample or reset (RFC 6298 5.5). */
  backoffs = 0;
  readonly minRto: Nanos;
  readonly maxRto: Nanos;

  constructor(options: RtoOptions = {}) {
    this.minRto = options.minRto ?? DEFAULT_MIN_RTO;
    this.maxRto = options.maxRto ?? DEFAULT_MAX_RTO;
    this.base = options.initialRto ?? DEFAULT_INITIAL_RTO;
  }

  /** The current RTO, with backoff, within [minRto, maxRto]. */
  get rto(): Nanos {
    const bounded = Math.max(this.minRto, this.base);
    return Math.min(this.maxRto, bounded * 2 ** this.backoffs);
  }

  /** RFC 6298 2.2 and 2.3: a new RTT measurement. Also ends any backoff. */
  sample(rtt: Nanos): void {
    if (this.srtt === null) {
      this.srtt = rtt;
      this.rttvar = rtt / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - rtt);
      this.srtt = 0.875 * this.srtt + 0.125 * rtt;
    }
    this.base = Math.round(this.srtt + Math.max(GRANULARITY, 4 * this.rttvar));
    this.backoffs = 0;
  }

  /** RFC 6298 5.5: the timer expired, double the RTO (up to maxRto). */
  backoff(): void {
    if (this.rto < this.maxRto) this.backoffs++;
  }
}
