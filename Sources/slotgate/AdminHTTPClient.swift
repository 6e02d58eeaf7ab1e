//===----------------------------------------------------------------------===//
// Slotgate — a cluster-aware Redis proxy
//===----------------------------------------------------------------------===//

import NIOCore
import NIOHTTP1
import NIOPosix
import SlotgateProxy

/// One HTTP `GET` to a proxy's admin port, on SwiftNIO.
///
/// `slotgate stats` and `slotgate top` need no more of an HTTP client than this: a status and a
/// whole body, an optional `Authorization` header, a time limit. FoundationNetworking's
/// `URLSession` would load libcurl with its TLS, Kerberos and LDAP libraries into every Slotgate
/// process, the proxy's included.
enum AdminHTTPClient {
    /// A whole response.
    struct Response: Sendable {
        var status: HTTPResponseStatus
        var body: ByteBuffer
    }

    /// Why no whole response arrived; the description is the message the command line shows.
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// GETs `path` from `host:port`, sending `authorization` as the `Authorization` header if
    /// given; fails unless the whole response arrives within `timeout`.
    static func get(host: String, port: Int, path: String, authorization: String?, timeout: Duration) async throws -> Response {
        try await withThrowingTaskGroup(of: Response?.self) { tasks in
            tasks.addTask { try await self.exchange(host: host, port: port, path: path, authorization: authorization, timeout: timeout) }
            tasks.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { tasks.cancelAll() }
            guard let response = try await tasks.next() ?? nil else {
                throw Failure(description: "the admin port at \(host):\(port) did not answer within \(timeout)")
            }
            return response
        }
    }

    /// Connects, then sends the request and reads the response.
    private static func exchange(host: String, port: Int, path: String, authorization: String?, timeout: Duration) async throws -> Response {
        let channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(TimeAmount(timeout))
                .connect(host: host, port: port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        return try NIOAsyncChannel(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw Failure(description: "cannot reach the admin port at \(host):\(port): \(ProxyErrors.connectFailureReason(error))")
        }
        do {
            return try await Self.request(path, from: "\(host):\(port)", authorization: authorization, over: channel)
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure(description: "no HTTP response from the admin port at \(host):\(port) (\(error))")
        }
    }

    /// Writes the request on `channel` and reads the response to its end; `authority` is `host:port`.
    private static func request(
        _ path: String,
        from authority: String,
        authorization: String?,
        over channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>
    ) async throws -> Response {
        try await channel.executeThenClose { inbound, outbound in
            var headers = HTTPHeaders([("Host", authority), ("Connection", "close")])
            if let authorization { headers.add(name: "Authorization", value: authorization) }
            try await outbound.write(.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: headers)))
            try await outbound.write(.end(nil))
            var status: HTTPResponseStatus?
            var body = ByteBuffer()
            for try await part in inbound {
                switch part {
                case .head(let head):
                    status = head.status
                case .body(var chunk):
                    body.writeBuffer(&chunk)
                case .end:
                    if let status { return Response(status: status, body: body) }
                }
            }
            throw Failure(description: "the admin port at \(authority) closed the connection before a whole response")
        }
    }
}
