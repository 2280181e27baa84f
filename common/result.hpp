// One error model for the configuration layer: a value or an Error naming the field at fault.
// (The fast path uses drop reasons instead; nothing in dplb throws across a module boundary.)
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace dplb::model {

struct Error {
    std::string field;    // path of the member at fault ("service.real_servers[1].port"); may be empty
    std::string message;  // what is wrong, for a human, one line

    // "field: message", or just the message when no field is at fault.
    std::string str() const { return field.empty() ? message : field + ": " + message; }
};

template <class T>
class Result {
public:
    Result(T value) : v_(std::move(value)) {}
    Result(Error error) : v_(std::move(error)) {}

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }
    T& value() { return std::get<0>(v_); }
    const T& value() const { return std::get<0>(v_); }
    T& operator*() { return value(); }
    const T& operator*() const { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    const Error& error() const { return std::get<1>(v_); }

private:
    std::variant<T, Error> v_;
};

// For operations that produce nothing but may fail.
using Status = std::optional<Error>;  // nullopt = success

}  // namespace dplb::model
