/** The CLI as a client of a running `vnet serve`: tables, --output json, the config file, clear errors. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { repoPath } from '../helpers/repo.js';
import { type ServeProcess, serveProcess } from '../helpers/serve-process.js';
import { tempDb } from '../helpers/service.js';

let server: ServeProcess;
let admin: string;
let token: string;
const home = mkdtempSync(join(tmpdir(), 'vnet-cli-home-'));

function vnet(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [repoPath('bin/vnet'), ...args],
      {
        cwd: repoPath(''),
        env: {
          ...process.env,
          VNET_ENDPOINT: server.url,
          VNET_TOKEN: token,
          VNET_CONFIG: join(home, 'none.json'),
          ...env,
        },
      },
      (error, stdout, stderr) =>
        resolve({ status: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

before(async () => {
  server = await serveProcess(['--db', tempDb('vnet-cli-')]);
  admin = server.adminToken!;
  token = '';
  const t = await vnet(['tenant', 'create', 'acme', '--token', admin, '--output', 'json']);
  assert.equal(t.status, 0, t.stderr);
  const k = await vnet(['token', 'create', 'acme', '--token', admin]);
  assert.equal(k.status, 0, k.stderr);
  assert.match(
    k.stdout,
    /^token tok-\w+ for tenant tenant-\w+ \(shown this once; the service keeps only its hash\):\n/,
  );
  token = k.stdout.trimEnd().split('\n')[1]!;
});
after(async () => {
  server.child.kill('SIGTERM');
  await server.exited();
});

test('vnet vpc create / list with --output json, and as a table', async () => {
  const c = await vnet([
    'vpc',
    'create',
    'prod',
    '--cidr',
    '10.0.0.0/16',
    '--cidr',
    '10.1.0.0/16',
    '--output',
    'json',
  ]);
  assert.equal(c.status, 0, c.stderr);
  const vpc = JSON.parse(c.stdout);
  assert.match(vpc.id, /^vpc-/);
  assert.deepEqual(vpc.cidrs, ['10.0.0.0/16', '10.1.0.0/16']);
  const l = await vnet(['vpc', 'list', '--output', 'json']);
  assert.equal(l.status, 0, l.stderr);
  assert.deepEqual(
    JSON.parse(l.stdout).map((v: { id: string }) => v.id),
    [vpc.id],
  );
  const t = await vnet(['vpc', 'list']);
  assert.equal(t.stdout, `ID                NAME  CIDRS\n${vpc.id}  prod  10.0.0.0/16,10.1.0.0/16\n`);
});

test('subnet, sg, instance launch/list/stop by name; the config file gives endpoint and token', async () => {
  assert.equal((await vnet(['subnet', 'create', 'web', '--vpc', 'prod', '--cidr', '10.0.1.0/24'])).status, 0);
  const sg = await vnet([
    'sg',
    'create',
    'web',
    '--vpc',
    'prod',
    '--ingress',
    'tcp:80:0.0.0.0/0',
    '--ingress',
    'icmp:10.0.0.0/8',
  ]);
  assert.equal(sg.status, 0, sg.stderr);
  assert.match(sg.stdout, /tcp:80:0\.0\.0\.0\/0 icmp:10\.0\.0\.0\/8/);
  const config = join(home, 'config.json');
  writeFileSync(config, JSON.stringify({ endpoint: server.url, token }));
  const fromFile = { VNET_ENDPOINT: '', VNET_TOKEN: '', VNET_CONFIG: config };
  const launch = await vnet(
    ['instance', 'launch', 'web1', '--subnet', 'web', '--sg', 'web', '-o', 'json'],
    fromFile,
  );
  assert.equal(launch.status, 0, launch.stderr);
  const vm = JSON.parse(launch.stdout);
  assert.equal(vm.ip, '10.0.1.4');
  assert.equal(vm.mac, '02:76:6e:00:00:01');
  assert.equal((await vnet(['instance', 'stop', 'web1'])).status, 0);
  const list = await vnet(['instance', 'list', '--subnet', 'web']);
  assert.match(list.stdout, /^ID +NAME +SUBNET +IP +MAC +HOST +STATE +SGS\n/);
  assert.match(
    list.stdout,
    new RegExp(
      `${vm.id} +web1 +subnet-\\w+ +10\\.0\\.1\\.4 +02:76:6e:00:00:01 +leaf1-srv1 +stopped +sg-\\w+`,
    ),
  );
  const rule = await vnet(['sg', 'authorize', 'web', '--egress', 'all:0.0.0.0/0', '-o', 'json']);
  assert.equal(rule.status, 0, rule.stderr);
  assert.deepEqual(JSON.parse(rule.stdout).egress, [{ protocol: 'all', cidr: '0.0.0.0/0' }]);
});

test('errors: the API message and every problem on stderr, exit status 1', async () => {
  const dup = await vnet(['vpc', 'create', 'prod', '--cidr', '10.9.0.0/16']);
  assert.equal(dup.status, 1);
  assert.match(
    dup.stderr,
    /^vnet vpc create: a VPC named "prod" already exists in this tenant \(vpc-\w+\) \(409 name-taken\)\n {2}name: taken by vpc-\w+\n$/,
  );
  const bad = await vnet(['vpc', 'create', 'x', '--cidr', '10.0.0.0/40']);
  assert.equal(bad.status, 1);
  assert.match(
    bad.stderr,
    /\(400 invalid-request\)\n {2}cidrs\[0\]: not an IPv4 prefix \(a\.b\.c\.d\/len\)\n$/,
  );
  const inUse = await vnet(['subnet', 'delete', 'web']);
  assert.equal(inUse.status, 1);
  assert.match(inUse.stderr, /cannot delete subnet subnet-\w+ \(web\): still used by 1 instance/);
  const noSuch = await vnet(['vpc', 'get', 'nope']);
  assert.equal(noSuch.status, 1);
  assert.equal(noSuch.stderr, 'vnet vpc get: no VPC named "nope"\n');
  const notFound = await vnet(['vpc', 'get', 'vpc-000000000000']);
  assert.equal(notFound.stderr, 'vnet vpc get: no VPC vpc-000000000000 (404 not-found)\n');
  const badToken = await vnet(['vpc', 'list', '--token', 'vnet_wrong']);
  assert.equal(badToken.status, 1);
  assert.match(badToken.stderr, /the token is not valid .*\(401 unauthorized\)/);
  const noToken = await vnet(['vpc', 'list'], { VNET_TOKEN: '' });
  assert.match(
    noToken.stderr,
    /no token: send .* \(no token given: use --token, VNET_TOKEN or the config file\) \(401 unauthorized\)/,
  );
  const migrate = await vnet(['instance', 'migrate', 'web1', 'nowhere']);
  assert.equal(migrate.status, 1);
  assert.match(
    migrate.stderr,
    /no hypervisor "nowhere" \(the fabric has leaf1-srv1, .*\) \(400 invalid-request\)/,
  );
  const rule = await vnet(['sg', 'create', 'x', '--vpc', 'prod', '--ingress', 'tcp:22']);
  assert.equal(rule.status, 2);
  assert.match(rule.stderr, /"tcp:22" is not a rule/);
});

test('connection refused names the endpoint', async () => {
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  const r = await vnet(['vpc', 'list', '--endpoint', `http://127.0.0.1:${port}`]);
  assert.equal(r.status, 1);
  assert.equal(
    r.stderr,
    `vnet vpc list: cannot reach the vnet API at http://127.0.0.1:${port}: connection refused (is \`vnet serve\` running there? set --endpoint or VNET_ENDPOINT)\n`,
  );
});

test('vnet reach and vnet plan against the running fabric; vnet instance migrate moves an instance', async () => {
  const run = async (...args: string[]) => {
    const r = await vnet(args);
    assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  await run('vpc', 'create', 'reachvpc', '--cidr', '10.77.0.0/16');
  await run('subnet', 'create', 'r1', '--vpc', 'reachvpc', '--cidr', '10.77.1.0/24');
  await run(
    'sg',
    'create',
    'pingers',
    '--vpc',
    'reachvpc',
    '--ingress',
    'icmp:10.77.0.0/16',
    '--egress',
    'all:0.0.0.0/0',
  );
  const sg = JSON.parse(await run('sg', 'get', 'pingers', '--output', 'json')).id;
  await run('instance', 'launch', 'ra', '--subnet', 'r1', '--sg', sg, '--host', 'leaf1-srv1');
  await run('instance', 'launch', 'rb', '--subnet', 'r1', '--sg', sg, '--host', 'leaf2-srv2');
  const ok = await run('reach', 'ra', 'rb', '--proto', 'icmp');
  assert.match(ok, /^analysis: allowed; data plane: .+$/m);
  const blocked = await vnet(['reach', 'ra', 'rb', '--proto', 'tcp', '--port', '443']);
  assert.equal(blocked.status, 0, blocked.stderr);
  assert.match(blocked.stdout, /^BLOCK {2}.+\[sg-[0-9a-z]+\]$/m);
  assert.match(blocked.stdout, /^analysis: blocked; data plane: /m);
  const plan = await run('plan');
  assert.match(plan, /^\+ bridge-domain leaf1-srv1\/vni \d+ /m);
  assert.match(plan, /^Plan: \d+ to add, 0 to change, 0 to destroy\.$/m);
  const moved = JSON.parse(await run('instance', 'migrate', 'ra', 'leaf2-srv1', '--output', 'json'));
  assert.equal(moved.host, 'leaf2-srv1');
  assert.match(await run('reach', 'ra', 'rb', '--proto', 'icmp'), /^analysis: allowed; data plane: /m);
  const again = await vnet(['instance', 'migrate', 'ra', 'leaf2-srv1']);
  assert.equal(again.status, 1);
  assert.match(again.stderr, /already runs on leaf2-srv1 \(409 already-there\)/);
  // A question changes nothing: --dry-run (every command takes it) still answers it.
  const asked = await run('reach', 'ra', 'rb', '--proto', 'icmp', '--dry-run');
  assert.match(asked, /^analysis: allowed; data plane: /m);
});

test('--dry-run prints the plan difference of a change and makes none', async () => {
  await vnet(['vpc', 'create', 'dryvpc', '--cidr', '10.88.0.0/16']);
  await vnet(['subnet', 'create', 'dry1', '--vpc', 'dryvpc', '--cidr', '10.88.1.0/24']);
  const dry = await vnet([
    'instance',
    'launch',
    'ghost',
    '--subnet',
    'dry1',
    '--host',
    'leaf1-srv2',
    '--dry-run',
  ]);
  assert.equal(dry.status, 0, dry.stderr);
  assert.match(dry.stdout, /^\+ mac-ip-route vni \d+\/02:76:6e:[0-9a-f:]+ \(i-[0-9a-z]+\)$/m);
  assert.match(dry.stdout, /^Plan: \d+ to add, 0 to change, 0 to destroy\.$/m);
  const list = await vnet(['instance', 'list', '--subnet', 'dry1', '--output', 'json']);
  assert.deepEqual(JSON.parse(list.stdout), []);
});

/** Runs `vnet ARGS --output json`, expects success, and parses the answer. */
async function json(...args: string[]) {
  const r = await vnet([...args, '--output', 'json']);
  assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

test('route-table with an internet gateway route, associated to a subnet; route add / delete', async () => {
  const vpc = await json('vpc', 'create', 'netvpc', '--cidr', '10.60.0.0/16');
  const subnet = await json('subnet', 'create', 'pub', '--vpc', 'netvpc', '--cidr', '10.60.1.0/24');
  const igw = await json('igw', 'create', 'gw', '--vpc', 'netvpc');
  assert.match(igw.id, /^igw-/);
  assert.equal(igw.vpc, vpc.id);
  assert.deepEqual(
    (await json('igw', 'list', '--vpc', 'netvpc')).map((g: { id: string }) => g.id),
    [igw.id],
  );
  const rtb = await json('route-table', 'create', 'public', '--vpc', 'netvpc', '--route', '0.0.0.0/0=gw');
  assert.match(rtb.id, /^rtb-/);
  assert.deepEqual(rtb.routes, [
    { destination: '0.0.0.0/0', target: { kind: 'internet-gateway', id: igw.id } },
  ]);
  const associated = await json('subnet', 'associate', 'pub', '--route-table', 'public');
  assert.equal(associated.id, subnet.id);
  assert.equal(associated.routeTable, rtb.id);
  assert.equal((await json('subnet', 'get', subnet.id)).routeTable, rtb.id);
  const added = await json('route-table', 'route', 'add', 'public', '10.99.0.0/16', 'blackhole');
  assert.deepEqual(added.routes[1], { destination: '10.99.0.0/16', target: { kind: 'blackhole' } });
  const table = await vnet(['route-table', 'list', '--vpc', 'netvpc']);
  assert.match(
    table.stdout,
    new RegExp(
      `^${rtb.id} +public +${vpc.id} +0\\.0\\.0\\.0/0->${igw.id} 10\\.99\\.0\\.0/16->blackhole$`,
      'm',
    ),
  );
  const deleted = await json('route-table', 'route', 'delete', 'public', '10.99.0.0/16');
  assert.deepEqual(deleted.routes, rtb.routes);
  const none = await vnet(['route-table', 'route', 'delete', 'public', '10.99.0.0/16']);
  assert.equal(none.status, 1);
  assert.equal(none.stderr, 'vnet route-table route delete: public has no route to 10.99.0.0/16\n');
  const noTarget = await vnet(['route-table', 'route', 'add', 'public', '10.98.0.0/16', 'nowhere']);
  assert.equal(noTarget.status, 1);
  assert.match(noTarget.stderr, /no internet gateway of vpc-\w+, peering or instance named "nowhere"/);
});

test('eip allocate, associate to an instance, disassociate, release', async () => {
  const vm = await json('instance', 'launch', 'pub1', '--subnet', 'pub');
  const eip = await json('eip', 'allocate', 'web-ip');
  assert.match(eip.id, /^eip-/);
  assert.match(eip.address, /^\d+\.\d+\.\d+\.\d+$/);
  assert.equal(eip.instance, undefined);
  const bound = await json('eip', 'associate', 'web-ip', 'pub1');
  assert.equal(bound.instance, vm.id);
  assert.equal(bound.address, eip.address);
  assert.deepEqual(
    (await json('eip', 'list', '--instance', 'pub1')).map((e: { id: string }) => e.id),
    [eip.id],
  );
  assert.equal((await json('eip', 'get', 'web-ip')).instance, vm.id);
  const unbound = await json('eip', 'disassociate', 'web-ip');
  assert.equal(unbound.instance, undefined);
  const again = await json('eip', 'allocate', 'web-ip2', '--instance', vm.id);
  assert.equal(again.instance, vm.id);
  assert.deepEqual(await json('eip', 'release', 'web-ip'), { released: eip.id });
  assert.deepEqual(
    (await json('eip', 'list')).map((e: { id: string }) => e.id),
    [again.id],
  );
});

test('peering between two VPCs of the tenant, with routes both ways', async () => {
  const a = await json('vpc', 'create', 'peer-a', '--cidr', '10.61.0.0/16');
  const b = await json('vpc', 'create', 'peer-b', '--cidr', '10.62.0.0/16');
  const pcx = await json('peering', 'create', 'a-b', '--vpc', 'peer-a', '--peer-vpc', 'peer-b');
  assert.match(pcx.id, /^pcx-/);
  assert.equal(pcx.vpc, a.id);
  assert.equal(pcx.peerVpc, b.id);
  assert.deepEqual(
    (await json('peering', 'list', '--vpc', 'peer-a')).map((p: { id: string }) => p.id),
    [pcx.id],
  );
  await json('route-table', 'create', 'to-b', '--vpc', 'peer-a');
  await json('route-table', 'create', 'to-a', '--vpc', 'peer-b');
  const ab = await json('route-table', 'route', 'add', 'to-b', '10.62.0.0/16', 'a-b');
  const ba = await json('route-table', 'route', 'add', 'to-a', '10.61.0.0/16', pcx.id);
  assert.deepEqual(ab.routes, [{ destination: '10.62.0.0/16', target: { kind: 'peering', id: pcx.id } }]);
  assert.deepEqual(ba.routes, [{ destination: '10.61.0.0/16', target: { kind: 'peering', id: pcx.id } }]);
  assert.equal(ab.vpc, a.id);
  assert.equal(ba.vpc, b.id);
});

test('nacl create with numbered rules, associated to a subnet; malformed rules are usage errors', async () => {
  const acl = await json(
    'nacl',
    'create',
    'edge',
    '--vpc',
    'netvpc',
    '--ingress',
    '100:allow:tcp:80-443:0.0.0.0/0',
    '--ingress',
    '200:deny:all:10.0.0.0/8',
    '--egress',
    '100:allow:all:0.0.0.0/0',
  );
  assert.match(acl.id, /^acl-/);
  assert.deepEqual(acl.ingress, [
    { number: 100, action: 'allow', protocol: 'tcp', ports: [80, 443], cidr: '0.0.0.0/0' },
    { number: 200, action: 'deny', protocol: 'all', cidr: '10.0.0.0/8' },
  ]);
  assert.deepEqual(acl.egress, [{ number: 100, action: 'allow', protocol: 'all', cidr: '0.0.0.0/0' }]);
  assert.equal((await json('subnet', 'associate', 'pub', '--network-acl', 'edge')).networkAcl, acl.id);
  const table = await vnet(['nacl', 'get', 'edge']);
  assert.match(table.stdout, /^ingress +100:allow:tcp:80-443:0\.0\.0\.0\/0 200:deny:all:10\.0\.0\.0\/8$/m);

  const bad = await vnet([
    'nacl',
    'create',
    'x',
    '--vpc',
    'netvpc',
    '--ingress',
    '100:permit:tcp:22:0.0.0.0/0',
  ]);
  assert.equal(bad.status, 2);
  assert.match(
    bad.stderr,
    /"100:permit:tcp:22:0\.0\.0\.0\/0" is not a network ACL rule: the action "permit" is not allow or deny;/,
  );
  const icmpPorts = await vnet([
    'nacl',
    'create',
    'x',
    '--vpc',
    'netvpc',
    '--egress',
    '1:allow:icmp:8:0.0.0.0/0',
  ]);
  assert.equal(icmpPorts.status, 2);
  assert.match(icmpPorts.stderr, /ports are for tcp and udp, not icmp/);
  const route = await vnet(['route-table', 'create', 'x', '--vpc', 'netvpc', '--route', '0.0.0.0/0']);
  assert.equal(route.status, 2);
  assert.match(route.stderr, /"0\.0\.0\.0\/0" is not a route: DEST=TARGET/);
  const dest = await vnet(['route-table', 'route', 'add', 'public', '10.0.0.0', 'gw']);
  assert.equal(dest.status, 2);
  assert.match(dest.stderr, /"10\.0\.0\.0" is not a route destination/);
  const nothing = await vnet(['subnet', 'associate', 'pub']);
  assert.equal(nothing.status, 2);
  assert.equal(nothing.stderr, 'vnet subnet associate: give --route-table, --network-acl or both\n');
  assert.equal((await vnet(['nacl', 'list', '-o', 'json'])).stdout.includes('"x"'), false);
});
