// std::visit over a variant with one lambda per alternative: visit(Overloaded{...}, v).
#pragma once

namespace dplb {

template <class... F>
struct Overloaded : F... {
    using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

}  // namespace dplb
