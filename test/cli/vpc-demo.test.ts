/**
 * `bash examples/vpc-demo.sh` end to end: it starts its own `vnet serve` on a temporary database,
 * drives the VPC service through the CLI (two tenants with the same CIDRs, pings, reach, a trace, a
 * live migration) and stops the service; it must exit 0 with the key lines in its output.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { repoPath } from '../helpers/repo.js';

test('examples/vpc-demo.sh runs every step and exits 0', { timeout: 180_000 }, async () => {
  const { status, stdout, stderr } = await new Promise<{ status: number; stdout: string; stderr: string }>(
    (resolve) => {
      const env: NodeJS.ProcessEnv = { ...process.env };
      for (const k of ['VNET_ENDPOINT', 'VNET_TOKEN', 'VNET_ADMIN_TOKEN']) delete env[k];
      execFile('bash', [repoPath('examples/vpc-demo.sh')], { env, timeout: 170_000 }, (error, out, err) =>
        resolve({ status: error ? ((error as { code?: number }).code ?? 1) : 0, stdout: out, stderr: err }),
      );
    },
  );
  assert.equal(status, 0, `${stdout}\n${stderr}`);
  const lines = stdout.split('\n');
  const after = (command: string) => lines.slice(lines.indexOf(`$ vnet ${command}`) + 1);
  // Two tenants, each a VPC 10.0.0.0/16 whose instances have the same addresses.
  assert.equal(lines.filter((l) => /^vpc-[0-9a-f]+ +prod +10\.0\.0\.0\/16$/.test(l)).length, 2);
  const web1 = lines.filter((l) => /^i-[0-9a-f]+ +web1 +subnet-[0-9a-f]+ +10\.0\.1\.4 /.test(l));
  // Launched by blue (leaf1-srv1) and green (leaf1-srv2), then listed by blue.
  assert.deepEqual(
    web1.map((l) => l.split(/ +/)[5]),
    ['leaf1-srv1', 'leaf1-srv2', 'leaf1-srv1'],
  );
  // Pings answered across the fabric and through the internet gateway.
  assert.deepEqual(
    after('ping web1 web2 --count 3')
      .slice(0, 5)
      .map((l) => l.replace(/time=.*/, '')),
    [
      'PING web2 (10.0.1.5) from web1: 56(84) bytes of data.',
      '64 bytes from 10.0.1.5: icmp_seq=1 ttl=64 ',
      '64 bytes from 10.0.1.5: icmp_seq=2 ttl=64 ',
      '64 bytes from 10.0.1.5: icmp_seq=3 ttl=64 ',
      '',
    ],
  );
  assert.ok(stdout.includes('2 packets transmitted, 2 received, 0% packet loss'), stdout);
  assert.match(stdout, /64 bytes from 198\.51\.100\.10: icmp_seq=1 ttl=61 time=\d+\.\d{3} us/);
  // The blocked ping: lost, and the drop named.
  assert.match(
    stdout,
    /no answer for icmp_seq=1: dropped at leaf2-srv2: drop \(security-group\): security group of i-[0-9a-f]+: no ingress rule of sg-[0-9a-f]+ allows icmp 10\.0\.1\.4 -> 10\.0\.2\.4/,
  );
  assert.ok(stdout.includes('2 packets transmitted, 0 received, 100% packet loss'));
  // Reach: one allowed, one blocked naming the rule.
  assert.ok(stdout.includes('analysis: allowed; data plane: connected to 10.0.2.4:5432 (SYN, SYN-ACK)'));
  assert.match(
    stdout,
    /^BLOCK {2}destination-sg-ingress: sg-[0-9a-f]+ has no ingress rule for tcp 22 from 10\.0\.2\.4/m,
  );
  assert.ok(stdout.includes('analysis: blocked; data plane: no connection (SYN-SENT)'));
  // The trace crosses a spine (ECMP), with VXLAN encapsulation, and is delivered.
  assert.match(stdout, /VXLAN VNI 900000: outer 172\.17\.0\.2 -> 172\.17\.0\.14, UDP \d+ -> 4789/);
  assert.match(stdout, /^ +\d+\.\d{3} us {2}spine[12] /m);
  assert.ok(stdout.includes('result: delivered: connected to 10.0.2.4:5432 (SYN, SYN-ACK)'));
  // Another tenant's instance is unknown.
  assert.equal(lines.filter((l) => l === '(exit status 1, as expected)').length, 2);
  assert.match(stderr, /^vnet ping: no instance i-[0-9a-f]+ \(404 not-found\)$/m);
  // The migration, then web2 still answers.
  assert.match(
    stdout,
    /^live migration leaf2-srv1:i-[0-9a-f]+ -> leaf1-srv2:i-[0-9a-f]+: .* 0 frames lost$/m,
  );
  const last = lines.lastIndexOf('$ vnet ping web1 web2 --count 3');
  assert.ok(last > lines.findIndex((l) => l.startsWith('live migration ')));
  assert.ok(lines.slice(last).includes('3 packets transmitted, 3 received, 0% packet loss'));
  assert.equal(lines.at(-2), 'vpc-demo: done');
});
