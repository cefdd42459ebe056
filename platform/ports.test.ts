import fs from 'node:fs';
import net from 'node:net';
import { freePort, isPortFree } from './ports';

test('free ports lie below the ephemeral range, are bindable, and are never handed out twice', async () => {
  const ephemeralStart = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').split(/\s+/)[0]);
  const ports: number[] = [];
  for (let i = 0; i < 50; i++) ports.push(await freePort());
  expect(new Set(ports).size).toBe(50);
  for (const port of ports) expect(port).toBeLessThan(ephemeralStart);
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(ports[0], '127.0.0.1', resolve));
  expect(await isPortFree(ports[0])).toBe(false);
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
