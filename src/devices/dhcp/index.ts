/** DHCP (RFC 2131): the client a host runs and the server a router's interface hosts. */
export * from './dhcp-client.js';
export * from './dhcp-host.js';
export * from './dhcp-server.js';
