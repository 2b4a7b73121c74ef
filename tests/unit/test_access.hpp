// The unit tests' one way to the header's internals (sio::detail::TestAccess, which the core classes befriend).
// Header-only: every accessor is a static member function, inline by definition, so several test files (or all
// of them as one translation unit) may include it.
#pragma once
#include "sioserver.hpp"

namespace sio {
namespace detail {

struct TestAccess {
    // Server::find_namespace: the namespace a CONNECT asks for (an existing one, a new dynamic child, or null).
    static Namespace* find_namespace(Server& server, const std::string& name, const Value& auth) {
        return server.find_namespace(name, auth);
    }
};

}  // namespace detail
}  // namespace sio
