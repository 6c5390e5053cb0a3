import { Option, type Command } from 'commander';
import { action, type Registry } from '../command.js';
import type { LoadFlags } from './load-run.js';
import type { LoadK8sFlags } from './load-k8s-run.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerLoad(program: Command, registry: Registry): void {
  const load = program
    .command('load')
    .description('drive a governance server with a load profile and report honest latency, throughput, errors and throttling')
    .option('--profile <name|file>', 'normal, burst, stress, soak, or a profile file', 'normal')
    .option('--duration <duration>', 'total duration, stages scaled to fit (e.g. 30s, 10m)')
    .option('--vus <n>', 'peak virtual users (closed model); the open model: most connections')
    .option('--rate <rate>', 'open model at this arrival rate (500/s, 30000/m)')
    .option('--scenario <name|file>', "request mix (default: the profile's, governance-mix)")
    .option('--out <dir>', 'where reports go: <dir>/<run-id>/load.{json,md,html}', 'reports')
    .option('--tag <key=value>', 'a tag recorded in the report (repeatable)', collect)
    .option('--seed <n>', 'seed of the request mix and bodies (the sequence is reproducible)')
    .option('--baseline <file|auto>', 'compare with a baseline report (auto: baselines/<profile>.json); regressions exit 1')
    .option('--save-baseline', 'write this run as the new baseline (baselines/<profile>.json, or the --baseline file)')
    .option('--api-key <token>', 'use an existing API key instead of creating keys (repeatable; or GOVCTL_API_KEYS)', collect)
    .option('--segment <i/n>', 'run shard i of n (0-based): its share of VUs or rate, its own seed')
    .option('--workers <n>', 'run the load from n worker threads (results merged exactly)', '1')
    .option('--start-at <time>', 'wait until this ISO 8601 time before starting (shards start together)')
    .addOption(new Option('--max-vus <n>', 'open model: most connections (arrivals finding none free are dropped)'))
    .addHelpText(
      'after',
      `
With no --url, GOVCTL_URL or context, the run starts the embedded reference server and reports
it as the target. The run creates its own API keys through the admin API and revokes them
afterwards (also on Ctrl-C); --api-key uses existing keys for servers without an admin API.

Exit codes: 0 passed, 1 a threshold, regression or check failed, 2 bad input, 3 unreachable,
4 admin key refused, 130 interrupted (a partial report is written).

Examples:
  govctl load --profile normal
  govctl load --profile stress --url http://127.0.0.1:8080
  govctl load --profile soak --duration 10m --baseline auto
  govctl load --rate 500/s --duration 1m -o json`,
    )
    .action(
      action(registry, async (flags: LoadFlags) => {
        const { loadCommand } = await import('./load-run.js');
        return loadCommand(registry.app, flags);
      }),
    );

  load
    .command('k8s')
    .description('write a Kubernetes manifest that runs the profile as an Indexed Job of n shards, then merges them')
    .requiredOption('--image <image>', 'container image with govctl')
    .option('--parallelism <n>', 'shards (pods)', '2')
    .option('--namespace <name>', 'namespace of the objects')
    .option('--manifest <file>', 'write the manifest here instead of stdout')
    .option('--name <name>', 'base name of the objects (default govctl-load-<start time>)')
    .option('--claim <name>', 'the shared ReadWriteMany volume claim for reports (default govctl-reports)')
    .option('--storage <size>', 'size of the claim (e.g. 1Gi)')
    .option('--storage-class <name>', 'storage class of the claim')
    .option('--secret <name>', 'Secret with optional keys admin-key and api-keys (default govctl-load)')
    .option('--cpu <quantity>', 'CPU per shard (requests = limits)')
    .option('--memory <quantity>', 'memory per shard (requests = limits)')
    .option('--start-in <duration>', 'lead time before the shards start together', '60s')
    .option('--merge-timeout <duration>', 'how long the merge step waits for every shard')
    .addHelpText('after', '\nExample:\n  govctl load k8s --profile stress --parallelism 4 --image ghcr.io/acme/govctl:1.0 --url https://gov.internal | kubectl apply -f -')
    .action(
      action(registry, async (flags: LoadK8sFlags, command: Command) => {
        const { loadK8sCommand } = await import('./load-k8s-run.js');
        return loadK8sCommand(registry.app, { ...command.parent!.opts<LoadFlags>(), ...flags } as LoadK8sFlags);
      }),
    );
}
