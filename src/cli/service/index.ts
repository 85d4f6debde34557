/**
 * The VPC service's commands: the CLI is a client of the API (`vnet serve`) for everything.
 *
 *   vnet tenant create|list|get|delete        (admin token)
 *   vnet token create TENANT [--name N]        (admin token; prints the new tenant token once)
 *   vnet vpc create NAME --cidr C [--cidr C]... | list | get | delete
 *   vnet subnet create NAME --vpc VPC --cidr C [--route-table RTB] [--network-acl ACL] | list [--vpc] | get | delete
 *   vnet sg create NAME --vpc VPC [--ingress RULE]... [--egress RULE]... | list [--vpc] | get | delete | authorize
 *   vnet subnet associate SUBNET [--route-table RTB] [--network-acl ACL]
 *   vnet route-table create NAME --vpc VPC [--route DEST=TARGET]... | list [--vpc] | get | delete
 *   vnet route-table route add TABLE DEST TARGET | route delete TABLE DEST
 *   vnet igw create NAME --vpc VPC | list [--vpc] | get | delete
 *   vnet eip allocate NAME [--instance I] | associate EIP INSTANCE | disassociate EIP | list | get | release
 *   vnet peering create NAME --vpc A --peer-vpc B | list [--vpc] | get | delete
 *   vnet nacl create NAME --vpc VPC [--ingress RULE]... [--egress RULE]... | list [--vpc] | get | delete
 *   vnet instance launch NAME --subnet S [--ip IP] [--sg SG]... [--host H] | list [--subnet] | get | start | stop | migrate | delete
 *   vnet reach SRC DST [--proto tcp|udp|icmp] [--port N]   (the analysis, then a real packet)
 *   vnet plan                                               (your part of the compiled plan)
 *   vnet ping SRC DST [--count N] [--size B] [--interval-ms MS], vnet trace SRC DST [--proto] [--port]
 *                                                           (probes through the fabric: probe.ts)
 *
 * Objects are named by id (`vpc-0a1b2c3d4e5f`) or by name when that name is unambiguous. Each
 * command takes `--output table|json` (table by default), `--endpoint` and `--token`. Exit status:
 * 0 success; 1 the API refused (its message and every problem printed), could not be reached, or a
 * name matched nothing; 2 usage.
 *
 * A module per kind of object (this folder), each registering its commands on `ServiceContext`
 * (client.ts: the client options, rendering and failure reporting they share); this one registers
 * them in the order `vnet --help` lists them.
 */
import type { Command } from 'commander';
import { type ServiceIo, serviceContext } from './client.js';
import { registerEipCommands } from './eip.js';
import { registerIgwCommands } from './igw.js';
import { registerInstanceCommands } from './instance.js';
import { registerNaclCommands } from './nacl.js';
import { registerPeeringCommands } from './peering.js';
import { registerProbeCommands } from './probe.js';
import { registerReachCommands } from './reach.js';
import { registerRouteTableCommands } from './route-table.js';
import { registerSgCommands } from './sg.js';
import { registerSubnetCommands } from './subnet.js';
import { registerTenantCommands } from './tenant.js';
import { registerVpcCommands } from './vpc.js';

export { type ClientFlags, runClient, type ServiceIo } from './client.js';
export { parseAclRule, parseDestination, parseRouteOption, parseRule } from './parse.js';

export function registerServiceCommands(program: Command, io: ServiceIo): void {
  const ctx = serviceContext(io);
  registerTenantCommands(program, ctx);
  registerVpcCommands(program, ctx);
  registerSubnetCommands(program, ctx);
  registerRouteTableCommands(program, ctx);
  registerIgwCommands(program, ctx);
  registerEipCommands(program, ctx);
  registerPeeringCommands(program, ctx);
  registerNaclCommands(program, ctx);
  registerSgCommands(program, ctx);
  registerInstanceCommands(program, ctx);
  registerReachCommands(program, ctx);
  registerProbeCommands(program, ctx);
}
