// Copyright (c) 2026 The Zuki authors. Distributed under the Boost Software License, Version 1.0.
#pragma once

/// @file
/// `loopback_pair(ex)`: a connected TCP loopback pair {client, server} on executor `ex`, for the
/// tests that need a real socket.

#include <utility>

#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace zuki::test {

template <class Executor>
std::pair<boost::asio::ip::tcp::socket, boost::asio::ip::tcp::socket>
loopback_pair(const Executor& ex) {
    using boost::asio::ip::tcp;
    tcp::acceptor acceptor(ex, tcp::endpoint(boost::asio::ip::address_v4::loopback(), 0));
    tcp::socket client(ex);
    client.connect(acceptor.local_endpoint());
    tcp::socket server = acceptor.accept();
    return {std::move(client), std::move(server)};
}

}  // namespace zuki::test
