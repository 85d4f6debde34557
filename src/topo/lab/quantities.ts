/**
 * The schemas of quantities in lab files (durations, bit rates, sizes): text or a bare number,
 * checked by the parsers of `units.ts`, each with the message a user sees at the value's path.
 */
import { z } from 'zod';
import { parseDuration, parseRate, parseSize } from '../units.js';

export const duration = z
  .union([z.string(), z.number()])
  .refine((v) => parseDuration(v) !== undefined, { message: 'not a duration (e.g. 1us, 10ms, 2s)' });

export const rate = z
  .union([z.string(), z.number()])
  .refine((v) => parseRate(v) !== undefined, { message: 'not a bit rate (e.g. 100Mbps, 1Gbps)' });

export const size = z
  .union([z.string(), z.number()])
  .refine((v) => parseSize(v) !== undefined, { message: 'not a size (e.g. 4KiB, 1GiB, 2GB)' });
