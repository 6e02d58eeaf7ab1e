//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Foundation
import SlotgateConfiguration
import SlotgateProxy
import Testing

extension LiveClusterSuite {
    /// A real job queue through Slotgate runs every job exactly once: the reason Slotgate exists is
    /// a job queue (Bull over an ioredis cluster) that ran jobs more than once.
    @Suite struct JobQueueTests {
        /// Python bullmq, run by `Tests/clients/job_queue_workload.py` (bullmq and redis-py are
        /// installed by deploy/ensure-deps.sh, which the cluster start runs): 500 jobs (plain, delayed,
        /// failing once then retried) on one queue, two workers with concurrency 8 each; every job
        /// completes, each plain or delayed job is processed once, each retried job twice. Run with
        /// RESP2 (`protocol=2`) and with redis-py's default settings (RESP3).
        @Test(.serialized, arguments: ["2", "3"])
        func bullmqWorkersProcessEveryJobExactlyOnce(respVersion: String) throws {
            let (_, proxy) = try liveCluster()
            try ClientWorkload.run("run_job_queue_workload.sh", port: proxy.port, arguments: [respVersion], summaryPrefix: "OK: bullmq")
        }

        /// RQ and arq, run by `Tests/clients/transaction_queue_workload.py` through a proxy with
        /// `cross-slot-transactions per-slot`: their transactions name keys of several slots
        /// (`rq:job:<id>` with `rq:queue:<name>`, arq's three-key `DEL` inside `MULTI`). RQ: 100 jobs,
        /// a failing job that lands in the failed registry, a job scheduled 2 s ahead that runs once
        /// and not early; arq: 50 jobs and one retried once. Every job runs exactly once (the retried
        /// one twice) with the right result. RQ's queue name carries a hash tag: its worker moves
        /// each job from the queue to the queue's `:intermediate` list with `BLMOVE`, which no cluster
        /// runs over two slots.
        @Test(.serialized, arguments: ["2", "3"])
        func rqAndArqRunEveryJobExactlyOnceWithPerSlotTransactions(respVersion: String) async throws {
            try await withOwnProxy({ $0.crossSlotTransactions = .perSlot }) { proxy in
                try ClientWorkload.run(
                    "run_transaction_queue_workload.sh",
                    port: proxy.port,
                    arguments: [respVersion],
                    summaryPrefix: "OK: RQ and arq"
                )
            }
        }
    }
}
