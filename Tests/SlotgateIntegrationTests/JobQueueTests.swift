//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import Foundation
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
        @Test(arguments: ["2", "3"])
        func bullmqWorkersProcessEveryJobExactlyOnce(respVersion: String) throws {
            let (_, proxy) = try liveCluster()
            try ClientWorkload.run("run_job_queue_workload.sh", port: proxy.port, arguments: [respVersion], summaryPrefix: "OK: bullmq")
        }
    }
}
