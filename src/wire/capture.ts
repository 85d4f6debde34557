/** Reads a capture file of either format, chosen by its magic number. Never throws. */
import { type CaptureFile, isPcap, readPcap } from './pcap.js';
import { isPcapng, readPcapng } from './pcapng.js';

export function readCapture(bytes: Uint8Array): CaptureFile {
  if (isPcapng(bytes)) return readPcapng(bytes);
  if (isPcap(bytes)) return readPcap(bytes);
  return {
    format: 'pcap',
    resolution: 'micro',
    packets: [],
    error: {
      layer: 'pcap',
      code: 'bad-magic',
      offset: 0,
      message:
        bytes.length < 4
          ? `file is ${bytes.length} bytes, too short for a capture header`
          : 'not a capture file (neither a pcap nor a pcapng magic number in the first 4 bytes)',
    },
  };
}
