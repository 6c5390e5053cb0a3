import type { Command } from 'commander';
import { action, type Registry } from '../command.js';
import type { ChaosFlags } from './chaos-run.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerChaos(program: Command, registry: Registry): void {
  program
    .command('chaos')
    .description('inject faults (restart, network, disk, memory) and measure recovery time and acknowledged-data loss')
    .option('--probe <list>', 'probes to run, comma-separated: restart,network,disk,memory (default: all that apply)')
    .option('--interval <duration>', 'time between steady-state samples', '100ms')
    .option('--budget <duration>', 'the longest recovery that passes', '60s')
    .option('--healthy-samples <n>', 'consecutive healthy samples that make a steady state or a recovery', '5')
    .option('--fault-duration <duration>', 'how long a lasting fault (network, disk, memory) stays', '5s')
    .option('--signal <name>', 'restart: KILL, or TERM for a graceful stop', 'KILL')
    .option('--toxic <toxic>', 'network: a toxic, e.g. latency:200ms, bandwidth:64kbps, reset, blackhole, slow_close:2s, refuse (repeatable)', collect)
    .option('--max-ballast <size>', 'disk and memory: the largest ballast', '1GiB')
    .option('--keep-free <size>', 'disk: never leave less free on a filesystem govctl did not create', '1GiB')
    .option('--allow-remote', 'allow faults against a server that is not on loopback')
    .option('--traffic-rate <n>', 'background decisions per second', '20')
    .option('--server-cmd <command>', 'run this server as the target (argv, never a shell); {port} is its port')
    .option('--server-cwd <dir>', 'working directory of --server-cmd')
    .option('--server-env <K=V>', 'environment of --server-cmd (repeatable)', collect)
    .option('--server-url-template <url>', "--server-cmd's health URL (default http://127.0.0.1:{port}/health)")
    .option('--dependency <host:port>', "the network probe faults --server-cmd's own dependency (a database, Redis): {proxy} in the command or its env becomes a proxy to it")
    .option('--out <dir>', 'where journals go: <dir>/<run-id>/chaos.{json,md}', 'reports')
    .addHelpText(
      'after',
      `
Each probe checks a steady state (health OK, a /v1/check within its latency budget), injects
its fault under modest background traffic, removes it and samples until the service holds again:
recovery time, detection time, and the acknowledged decisions missing from the usage log.
With no --url the embedded reference server is the target (restart, disk and memory apply);
--server-cmd runs any server govctl then manages; --url: only network (loopback or --allow-remote).
Rollbacks (fault removed, proxy closed, server restarted, key revoked) always run, also on Ctrl-C.

Exit codes: 0 every probe passed or was skipped, 1 a probe failed (over budget, data lost, left
unhealthy) or could not run, 2 bad input, 3 unreachable, 130 interrupted (partial journal written).

Examples:
  govctl chaos
  govctl chaos --probe restart --signal TERM
  govctl chaos --probe network --toxic latency:200ms --url http://127.0.0.1:8080
  govctl chaos --probe restart --server-cmd "python -m govserver --port {port}" --server-cwd ../py
  govctl chaos --probe memory --max-ballast 256MiB -o json`,
    )
    .action(
      action(registry, async (flags: ChaosFlags) => {
        const { chaosCommand } = await import('./chaos-run.js');
        return chaosCommand(registry.app, flags);
      }),
    );
}
