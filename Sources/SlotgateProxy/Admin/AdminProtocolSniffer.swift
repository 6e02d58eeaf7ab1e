//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import NIOHTTP1
import SlotgateRESP

/// Serves HTTP and RESP on the same admin port: the first bytes a client sends tell which it
/// speaks (`GET /…` and friends for HTTP, anything else — `*…` from redis-cli, or an inline
/// command — for RESP); the matching handlers take the pipeline and this handler steps aside.
final class AdminProtocolSniffer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private static let httpMethods = ["GET ", "HEAD ", "POST ", "PUT ", "DELETE ", "OPTIONS "]
    private let service: AdminService

    init(service: AdminService) {
        self.service = service
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = self.unwrapInboundIn(data)
        let start = String(decoding: bytes.readableBytesView.prefix(8), as: UTF8.self)
        let pipeline = context.pipeline.syncOperations
        do {
            if Self.httpMethods.contains(where: { start.hasPrefix($0) }) {
                try pipeline.configureHTTPServerPipeline(position: .after(self), withErrorHandling: true)
                try pipeline.addHandler(AdminHTTPHandler(service: self.service))
            } else {
                try pipeline.addHandler(ByteToMessageHandler(RESPRequestDecoder(limits: RESPRequestLimits(maxBulkLength: 1 << 20))))
                try pipeline.addHandler(AdminCommandHandler(service: self.service))
            }
        } catch {
            context.close(promise: nil)
            return
        }
        context.fireChannelRead(data)
        pipeline.removeHandler(self, promise: nil)
    }
}

@available(*, unavailable)
extension AdminProtocolSniffer: Sendable {}
