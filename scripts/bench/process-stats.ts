import fs from 'node:fs';

/** CPU seconds (user + system) and peak RSS (MB) of a live process, from /proc; undefined once it exited. */
export function procStats(pid: number): { cpuS: number; peakRssMb: number } | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime
    const hwm = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return { cpuS: ticks / 100, peakRssMb: hwm ? Number(hwm[1]) / 1024 : 0 };
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds so far of this process (the benchmark and the simulator it serves), `worker`, and the
 * Temporal and PostgreSQL processes under this one, from /proc. PostgreSQL's count includes its
 * exited backends (their time moves into the postmaster's cutime/cstime when it reaps them).
 */
export function stackCpu(worker: number | undefined): Record<'bench' | 'worker' | 'temporal' | 'postgres', number> {
  const procs = new Map<number, { ppid: number; comm: string; own: number; reaped: number }>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const own = (Number(f[11]) + Number(f[12])) / 100;
      procs.set(Number(name), { ppid: Number(f[1]), comm, own, reaped: (Number(f[13]) + Number(f[14])) / 100 });
    } catch {
      // exited while listed
    }
  }
  const under = (pid: number) => {
    for (let p = procs.get(pid)?.ppid; p; p = procs.get(p)?.ppid) if (p === process.pid) return true;
    return false;
  };
  const cpu = { bench: procs.get(process.pid)?.own ?? 0, worker: 0, temporal: 0, postgres: 0 };
  for (const [pid, p] of procs) {
    if (pid === worker) cpu.worker = p.own;
    else if (p.comm === 'temporal' && under(pid)) cpu.temporal += p.own;
    else if (p.comm === 'postgres' && under(pid)) cpu.postgres += p.own + p.reaped;
  }
  return cpu;
}
