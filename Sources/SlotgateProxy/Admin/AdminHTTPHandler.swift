//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import FoundationEssentials
import NIOCore
import NIOHTTP1
import SlotgateConfiguration

/// The admin port's HTTP side: `GET /metrics` (Prometheus), `/stats` and `/cluster` (JSON) and
/// `/healthz` (200, or 503 with the reason). With `admin-password` set, requests need HTTP basic
/// auth with that password (any user name).
final class AdminHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let service: AdminService
    private var request: HTTPRequestHead?

    init(service: AdminService) {
        self.service = service
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.unwrapInboundIn(data) {
        case .head(let head):
            self.request = head
        case .body:
            break
        case .end:
            guard let head = self.request else { return }
            self.request = nil
            self.answer(head, context: context)
        }
    }

    private func answer(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        guard head.method == .GET || head.method == .HEAD else {
            return self.respond(.methodNotAllowed, "only GET\n", type: "text/plain", head: head, context: context)
        }
        guard self.isAuthorized(head) else {
            return self.respond(.unauthorized, "admin-password required\n", type: "text/plain", head: head, context: context)
        }
        let path = head.uri.split(separator: "?").first.map(String.init) ?? head.uri
        guard ["/metrics", "/stats", "/healthz", "/cluster"].contains(path) else {
            return self.respond(.notFound, "endpoints: /metrics /stats /healthz /cluster\n", type: "text/plain", head: head, context: context)
        }
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        self.service.report(on: context.eventLoop).whenComplete { result in
            let (handler, context) = loopBound.value
            guard case .success(let report) = result else {
                return handler.respond(.internalServerError, "the event loops did not answer\n", type: "text/plain", head: head, context: context)
            }
            switch path {
            case "/metrics":
                handler.respond(.ok, PrometheusExposition.render(report), type: "text/plain; version=0.0.4", head: head, context: context)
            case "/stats":
                handler.respond(.ok, AdminJSON.stats(report), type: "application/json", head: head, context: context)
            case "/cluster":
                handler.respond(.ok, AdminJSON.cluster(report), type: "application/json", head: head, context: context)
            default:
                let reason = report.unhealthyReason
                handler.respond(reason == nil ? .ok : .serviceUnavailable, (reason ?? "ok") + "\n", type: "text/plain", head: head, context: context)
            }
        }
    }

    private func isAuthorized(_ head: HTTPRequestHead) -> Bool {
        let password = self.service.configuration.adminPassword
        guard !password.isEmpty else { return true }
        guard let header = head.headers.first(name: "authorization"), header.lowercased().hasPrefix("basic "),
            let decoded = Data(base64Encoded: String(header.dropFirst(6))).map({ String(decoding: $0, as: UTF8.self) }),
            let colon = decoded.firstIndex(of: ":")
        else { return false }
        let given = ByteBuffer(string: String(decoded[decoded.index(after: colon)...]))
        return ClientAuthenticator(requirePassword: password).check(user: nil, password: given) == .accepted(user: "default")
    }

    private func respond(_ status: HTTPResponseStatus, _ body: String, type: String, head: HTTPRequestHead, context: ChannelHandlerContext) {
        self.respond(status, Data(body.utf8), type: type, head: head, context: context)
    }

    private func respond(_ status: HTTPResponseStatus, _ body: Data, type: String, head: HTTPRequestHead, context: ChannelHandlerContext) {
        var headers = HTTPHeaders([("Content-Type", type), ("Content-Length", String(body.count))])
        if status == .unauthorized {
            headers.add(name: "WWW-Authenticate", value: "Basic realm=\"slotgate\"")
        }
        if !head.isKeepAlive {
            headers.add(name: "Connection", value: "close")
        }
        context.write(self.wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
        if head.method != .HEAD {
            context.write(self.wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: body)))), promise: nil)
        }
        let keepAlive = head.isKeepAlive
        context.writeAndFlush(self.wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            if !keepAlive { context.close(promise: nil) }
        }
    }
}

@available(*, unavailable)
extension AdminHTTPHandler: Sendable {}
