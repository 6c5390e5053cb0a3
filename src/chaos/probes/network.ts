import { OperationFailedError } from '../../core/errors.js';
import { formatToxic, parseToxic, startFaultProxy, type FaultProxy, type Toxic } from '../fault-proxy.js';
import { sampleHolds, type ChaosTarget, type InjectedFault, type Probe, type ProbeCheck, type ProbeContext, type ProbeOptions, type Sample } from '../types.js';
import { isLoopbackUrl } from './memory.js';

/**
 * network: toxics on a TCP link of the service, through the built-in fault proxy.
 *
 * - Client link (default): startNetworkLink() puts a proxy in front of the server before the
 *   runner starts the traffic and the sampler, so both go through it; inject() sets the toxics,
 *   remove() clears them.
 * - Dependency link: the managed server command points its own dependency (a database, Redis)
 *   at `{proxy}`; the runner starts a proxy to the dependency, substitutes its address with
 *   substituteProxy() before starting the server, and hands that proxy to startNetworkLink().
 *
 * Default toxic: latency:2000ms, twice the runner's default 1 s latency budget: every /v1/check
 * misses its budget (the sample's request times out at max(budget, interval)) while the server
 * itself is untouched; with a latency budget of 2 s or more, pass --toxic (blackhole, reset,
 * refuse fail every sample whatever the budget). `refuse` alone refuses new connections only:
 * the sampler's and the traffic's keep-alive connections carry on, so combine it with `reset`
 * ("--toxic refuse --toxic reset") for a server that is gone.
 *
 * Checks after removal: the clients timed out cleanly during the fault (timedOutCleanly) and no
 * connection is stuck in the proxy (noStuckConnections).
 */

export const DEFAULT_NETWORK_TOXICS: readonly string[] = ['latency:2000ms'];
export const PROXY_PLACEHOLDER = '{proxy}';

/**
 * The client connections a client link may hold once the fault is gone: the background
 * traffic's keep-alive connections (src/chaos/traffic.ts, 4) and the sampler's two.
 */
export const CLIENT_LINK_CONNECTIONS = 6;
/** How long the open connections may take to drop back after removal. */
const SETTLE_MS = 2_000;
const SETTLE_POLL_MS = 25;

export interface NetworkLink {
  /** The target as clients must reach it: through the proxy for a client link, unchanged for a dependency link. */
  target: ChaosTarget;
  proxy: FaultProxy;
  kind: 'client' | 'dependency';
  /** Closes a client link's proxy (a dependency proxy belongs to whoever started the server). */
  close(): Promise<void>;
}

/** The proxy of each link, by the target object startNetworkLink handed out (what ctx.target is). */
const links = new WeakMap<ChaosTarget, NetworkLink>();

function hostAndPort(url: URL): { host: string; port: number } {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = url.port !== '' ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  return { host, port };
}

/**
 * Starts the network probe's link. Without a dependency proxy: a fault proxy on 127.0.0.1 in
 * front of target.url, and the target with its URL through the proxy (same scheme, path and
 * credentials; TLS passes through untouched, so an https target needs a certificate valid for
 * 127.0.0.1). With one: the target unchanged, and that proxy is the one inject() toxifies.
 */
export async function startNetworkLink(target: ChaosTarget, options: { dependencyProxy?: FaultProxy; signal?: AbortSignal } = {}): Promise<NetworkLink> {
  let link: NetworkLink;
  if (options.dependencyProxy) {
    const proxy = options.dependencyProxy;
    link = { target: { ...target }, proxy, kind: 'dependency', close: async () => proxy.clearToxics() };
  } else {
    const url = new URL(target.url);
    const proxy = await startFaultProxy({ upstream: hostAndPort(url), ...(options.signal ? { signal: options.signal } : {}) });
    url.hostname = proxy.host;
    url.port = String(proxy.port);
    // URL keeps a trailing slash on a bare origin; the target URLs elsewhere have none.
    const proxied = url.pathname === '/' && !target.url.endsWith('/') ? url.href.replace(/\/$/, '') : url.href;
    link = { target: { ...target, url: proxied }, proxy, kind: 'client', close: () => proxy.close() };
  }
  links.set(link.target, link);
  return link;
}

/**
 * `{proxy}` replaced by `proxyAddress` ("127.0.0.1:41234") in every argument and environment
 * value of a server command; `used` says whether the command has the placeholder at all.
 */
export function substituteProxy(
  argv: readonly string[],
  env: Readonly<Record<string, string>>,
  proxyAddress: string,
): { argv: string[]; env: Record<string, string>; used: boolean } {
  let used = false;
  const fill = (text: string): string => {
    if (!text.includes(PROXY_PLACEHOLDER)) return text;
    used = true;
    return text.split(PROXY_PLACEHOLDER).join(proxyAddress);
  };
  const filled = argv.map(fill);
  const filledEnv: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) filledEnv[name] = fill(value);
  return { argv: filled, env: filledEnv, used };
}

export const networkProbe: Probe = {
  name: 'network',

  skipReason(target: ChaosTarget, options: ProbeOptions): string | undefined {
    if (!target.server && !isLoopbackUrl(target.url) && !options.allowRemote) {
      return 'the target is remote and not managed by govctl: pass --allow-remote to put the fault proxy in front of it anyway';
    }
    return undefined;
  },

  async inject(ctx: ProbeContext): Promise<InjectedFault> {
    const link = links.get(ctx.target);
    if (!link) {
      throw new OperationFailedError('the network probe needs its fault proxy in front of the server before traffic starts (startNetworkLink)');
    }
    const texts = ctx.options.toxics.length > 0 ? ctx.options.toxics : DEFAULT_NETWORK_TOXICS;
    const toxics: Toxic[] = texts.map(parseToxic);
    const { proxy } = link;
    const baseline = proxy.connections();
    const injectedAt = Date.now();
    proxy.setToxics(toxics);
    let removedAt: number | null = null;
    let removing: Promise<void> | undefined;
    return {
      kind: 'network',
      params: {
        link: link.kind,
        toxics: toxics.map(formatToxic),
        proxy: `${proxy.host}:${proxy.port}`,
        upstream: `${proxy.upstream.host}:${proxy.upstream.port}`,
      },
      injected_at: injectedAt,
      instantaneous: false,
      remove() {
        removing ??= (async () => {
          removedAt = Date.now();
          proxy.clearToxics();
          await proxy.settled();
        })();
        return removing;
      },
      async checks(): Promise<ProbeCheck[]> {
        const bound = link.kind === 'client' ? Math.max(baseline, CLIENT_LINK_CONNECTIONS) : baseline + 2;
        return [
          timedOutCleanly(ctx.sampler.samples, injectedAt, removedAt ?? Date.now(), toxics),
          await noStuckConnections(proxy, bound, link.kind, { signal: ctx.options.signal }),
        ];
      },
    };
  },
};

/** How a failed sample failed, for the check's detail. */
function failureKind(error: string | undefined): string {
  if (error === undefined) return 'no error given';
  if (/\bother\b/.test(error)) return 'other';
  if (/timeout/.test(error)) return 'timeout';
  if (/reset/.test(error)) return 'reset';
  if (/refused/.test(error)) return 'refused';
  if (/took \d+ ms/.test(error)) return 'over the latency budget';
  if (/\b[1-5]\d\d\b/.test(error)) return 'HTTP error status';
  return 'other';
}

const CLEAN = new Set(['timeout', 'reset', 'refused', 'over the latency budget', 'HTTP error status']);

/**
 * "Clients timed out cleanly during the fault": samples kept completing while the fault was on
 * (a sample that hangs never completes), and every sample that failed did so with a clean error
 * (a timeout, a reset, a refusal, a late or an error answer), never garbage or a silent failure.
 * A sample that held because it straddled the removal (the held-back answer was released) is
 * not held against the fault.
 */
export function timedOutCleanly(samples: readonly Sample[], injectedAt: number, removedAt: number, toxics: readonly Toxic[]): ProbeCheck {
  const name = 'clients timed out cleanly during the fault';
  const during = samples.filter((s) => s.t >= injectedAt && s.t < removedAt);
  if (during.length === 0) {
    return { name, passed: false, detail: 'no sample taken during the fault completed: a client hung (or the fault lasted less than one sample)' };
  }
  const tally = new Map<string, number>();
  const unclean: Sample[] = [];
  let held = 0;
  let straddled = 0;
  for (const s of during) {
    if (sampleHolds(s)) {
      if (s.t + (s.check_latency_ms ?? 0) < removedAt) held++;
      else straddled++;
      continue;
    }
    const kind = failureKind(s.error);
    tally.set(kind, (tally.get(kind) ?? 0) + 1);
    if (!CLEAN.has(kind)) unclean.push(s);
  }
  const failed = during.length - held - straddled;
  const how = [...tally].map(([kind, n]) => `${kind} x${n}`).join(', ');
  if (unclean.length > 0) {
    const examples = unclean.slice(0, 3).map((s) => s.error ?? 'no error given');
    return { name, passed: false, detail: `${unclean.length} of ${during.length} samples during the fault failed without a clean timeout, reset or refusal: ${examples.join(' | ')}` };
  }
  if (failed === 0) {
    const names = toxics.map(formatToxic).join(', ');
    return { name, passed: true, detail: `all ${during.length} samples during the fault held: the service kept its latency budget through ${names}; nothing had to time out` };
  }
  return { name, passed: true, detail: `${failed} of ${during.length} samples during the fault failed, each cleanly (${how})${held > 0 ? `; ${held} held` : ''}` };
}

/**
 * "No stuck connections after removal": the proxy's open client connections drop back to what
 * the clients keep alive (a client link: the traffic's and the sampler's) within a short settle.
 * Connections the clients gave up on during the fault must not linger in the proxy.
 */
export async function noStuckConnections(
  proxy: FaultProxy,
  bound: number,
  kind: 'client' | 'dependency',
  options: { signal?: AbortSignal; settleMs?: number } = {},
): Promise<ProbeCheck> {
  const name = 'no stuck connections after removal';
  const settleMs = options.settleMs ?? SETTLE_MS;
  const started = Date.now();
  let open = proxy.connections();
  while (open > bound && Date.now() - started < settleMs && !options.signal?.aborted) {
    await new Promise((resolve) => setTimeout(resolve, SETTLE_POLL_MS));
    open = proxy.connections();
  }
  const whose = kind === 'client' ? "the traffic's and the sampler's keep-alive connections" : 'the connections open before the fault, plus 2';
  const passed = open <= bound;
  return {
    name,
    passed,
    detail: passed
      ? `${open} connection(s) open through the proxy after removal (at most ${bound}: ${whose})`
      : `${open} connection(s) still open through the proxy ${settleMs} ms after removal, more than the ${bound} expected (${whose})`,
  };
}
