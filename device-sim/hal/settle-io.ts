/**
 * Let the work in flight in this process finish, without sleeping for wall time: what virtual
 * time must wait for between two steps. The device and the emulated servers talk over real
 * sockets on loopback, so a step of virtual time that starts a send (a firmware timer fires, a
 * rule's delay ends) is followed by wall-time work: bytes between sockets, TLS, WebCrypto on
 * libuv's thread pool, files, a scan unit's child process. Until that work is done, moving
 * virtual time on could fire a timeout that guards it (the firmware's SMTP reply timer, say)
 * although, in the simulated world, the answer took no time at all.
 *
 * How "done" is told, turn by turn of the event loop (a turn: one setImmediate, so the poll
 * phase runs once without blocking and picks up whatever loopback bytes are ready):
 * - a callback other than ours ran (async_hooks `before`: an I/O callback, a timer, an
 *   immediate, a promise reaction): work is under way;
 * - a libuv request is pending (a file operation, a connect, a name lookup;
 *   `process.getActiveResourcesInfo()`). Not a socket write: one that waits is waiting for its
 *   peer to read, which is either under way (the peer's reads are callbacks) or stalled on
 *   purpose (a tester's stall fault), and then only virtual time moves things on;
 * - the world holds settles (`holdSettles`) while it works in another process: the scan unit.
 *   Child processes are not counted by themselves, as a test's own (a browser, a mail server
 *   peer) may live as long as the test;
 * - an asynchronous crypto job is on the thread pool (WebCrypto's digest, verify, encrypt,
 *   deriveBits, node:crypto's callback forms): these are not libuv requests and show nowhere
 *   else, so an async_hooks `init` keeps the jobs of type *REQUEST until their callback runs.
 *   A job that carries no `ondone` ran synchronously (getRandomValues, scryptSync) and is dropped.
 * Quiet for SETTLE_QUIET_TURNS turns in a row: settled. Loopback bytes written in one turn are
 * read in the next, so a conversation over loopback never looks quiet halfway. While nothing runs
 * but such work is pending, the settle parks: the poll phase blocks until the work's callback
 * comes, rather than spinning turns that would take a CPU from the thread pool it waits for.
 *
 * The hooks are on only while someone waits (`trackIo`); async_hooks' promise hooks cost a
 * little on every promise, so nothing pays for them outside virtual-time stepping.
 *
 * Deliberately not done: host timers are not waited for (the world's timers are virtual, the
 * device HAL's deadlines and the emulated mail servers' idle timeout among them; what still runs
 * on host time is smtp-server's half-close deadline after it ended a session and its close
 * timeout at stop(), which no settled world is waiting on), nor zlib's thread-pool work.
 */
import { createHook, type AsyncHook } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';

/** Quiet turns in a row that count as settled. */
export const SETTLE_QUIET_TURNS = 3;
/** Longest a settle waits, ms of wall time (a long scan, a stuck peer); then it gives up and says so. */
export const SETTLE_MAX_WALL_MS = 10_000;
/** A settle parked for pending work looks again after this long even if no callback woke it, ms. */
const PARK_FALLBACK_MS = 5;

/** libuv requests in `process.getActiveResourcesInfo()` that mean work is still coming (files, connects, lookups). */
const BUSY_RESOURCE = /Req(?:Callback|Promise|Wrap)?$|^ConnectWrap$/;
/** Whether an async_hooks type is one of node:crypto's jobs (HASHREQUEST, CIPHERREQUEST, SIGNREQUEST, PBKDF2REQUEST, …). */
const isCryptoJob = (type: string): boolean => type.endsWith('REQUEST');

let users = 0;
let hook: AsyncHook | undefined;
/** Callbacks run since the hook was enabled. */
let callbacks = 0;
/**
 * Async resources (promises, immediates, I/O requests, crypto jobs, …) created, and promises
 * settled, since the hook was enabled: settling a promise someone awaits starts its continuation
 * in the microtask queue, which has not run yet when a timer's callback returns.
 */
let starts = 0;
/** Crypto jobs created and whose callback has not run yet, with their job object. */
const cryptoJobs = new Map<number, { ondone?: unknown }>();
/** Settles waiting for the next callback of any kind (see `park`). */
const parked = new Set<() => void>();
/** Work of the world in other processes, by what it is (`holdSettles`). */
const holds = new Set<{ readonly what: string }>();

/**
 * The simulated world is working outside this process (a scan unit renders pages): every settle
 * waits until the returned release is called (once; further calls do nothing).
 */
export function holdSettles(what: string): () => void {
  const hold = { what };
  holds.add(hold);
  return () => void holds.delete(hold);
}

/**
 * Run `work` with the activity hooks on (nested and concurrent uses share them). settleIo() needs
 * them; advanceUntil() turns them on for its whole run.
 */
export async function trackIo<T>(work: () => Promise<T>): Promise<T> {
  if (users++ === 0) {
    hook = createHook({
      init(asyncId, type, _trigger, resource) {
        starts++;
        if (isCryptoJob(type)) cryptoJobs.set(asyncId, resource as { ondone?: unknown });
      },
      promiseResolve() {
        starts++;
      },
      before(asyncId) {
        callbacks++;
        cryptoJobs.delete(asyncId);
        for (const wake of parked) wake(); // each wake removes itself: safe while iterating a Set
      },
    }).enable();
  }
  try {
    return await work();
  } finally {
    if (--users === 0) {
      hook?.disable();
      hook = undefined;
      cryptoJobs.clear();
    }
  }
}

/**
 * A mark for `startedSince`, taken while the hooks are on (`trackIo`): how many async resources
 * this process has created so far.
 */
export function startMark(): number {
  return starts;
}

/**
 * Whether anything that could still be running started after `mark`: an async resource was
 * created (a promise, an immediate, a socket write, a crypto job, …), a promise was settled (its
 * awaiting code runs next), or a libuv request, held work or crypto job is pending. False means code that ran since the mark was purely synchronous
 * and left nothing in flight, so a world settled at the mark is settled still.
 */
export function startedSince(mark: number): boolean {
  return starts !== mark || pendingWork();
}

/**
 * One turn of the event loop (its poll phase runs once, without blocking): true when nothing but
 * this turn ran and nothing is pending. For code that started nothing `startedSince` can see but
 * may still have moved bytes: a socket write that completed at once creates no async resource,
 * yet on loopback its bytes are already at the peer, whose read runs in this turn's poll phase.
 */
export function quietTurn(): Promise<boolean> {
  const seen = callbacks;
  return new Promise((resolve) => setImmediate(() => resolve(callbacks - seen === 1 && !pendingWork())));
}

export interface SettleResult {
  /** False when SETTLE_MAX_WALL_MS (or the given cap) passed first. */
  readonly settled: boolean;
  /** Event-loop turns it took. */
  readonly turns: number;
}

/** The settle under way: callers at the same time share it (two loops would see each other's turns as work). */
let current: Promise<SettleResult> | undefined;

/** Wait until this process has no work in flight (see the file header). */
export function settleIo(options: { readonly maxWallMs?: number } = {}): Promise<SettleResult> {
  current ??= trackIo(() => settleTracked(options.maxWallMs ?? SETTLE_MAX_WALL_MS)).finally(() => (current = undefined));
  return current;
}

function settleTracked(maxWallMs: number): Promise<SettleResult> {
  const startedMs = performance.now();
  return new Promise((resolve) => {
    let quiet = 0;
    let turns = 0;
    /** The callback count at the end of the last turn, and how many since then were our own. */
    let seen = callbacks;
    let own = 0;
    const turn = (): void => {
      turns++;
      own++; // this immediate
      const active = callbacks - seen - own > 0;
      const waiting = pendingWork();
      quiet = active || waiting ? 0 : quiet + 1;
      if (quiet >= SETTLE_QUIET_TURNS) return resolve({ settled: true, turns });
      if (performance.now() - startedMs > maxWallMs) return resolve({ settled: false, turns });
      seen = callbacks;
      own = 0;
      if (!active && waiting) park();
      else setImmediate(turn);
    };
    /**
     * Nothing ran but work is on the thread pool or in another process: let the poll phase
     * block until its callback comes (the `before` hook wakes us) instead of spinning turns,
     * which would take a CPU from the very thread-pool thread we wait for. PARK_FALLBACK_MS
     * wakes us anyway.
     */
    const park = (): void => {
      let woken = false;
      // Called from the `before` hook, so it only schedules: a timer must not be cleared while
      // timers run (it may be the very one whose callback comes next).
      const wake = (): void => {
        if (woken) return;
        woken = true;
        parked.delete(wake);
        setImmediate(() => {
          clearTimeout(fallback);
          turn();
        });
      };
      const fallback = setTimeout(() => {
        own++; // this timer (its `before` has already woken us)
        wake();
      }, PARK_FALLBACK_MS);
      parked.add(wake);
    };
    setImmediate(turn);
  });
}

/** Whether held work, a libuv request or an asynchronous crypto job is still under way. */
function pendingWork(): boolean {
  if (holds.size > 0) return true;
  for (const [id, job] of cryptoJobs) {
    if (typeof job.ondone === 'function') return true;
    cryptoJobs.delete(id); // ran synchronously: done
  }
  return process.getActiveResourcesInfo().some((name) => BUSY_RESOURCE.test(name));
}
