#include <string>
#include <vector>

namespace shapes {

class Polygon {
public:
    explicit Polygon(std::vector<double> sides) : sides_(std::move(sides)) {}

    double perimeter() const {
        double total = 0.0;
        <|cursor|>
    }

private:
    std::vector<double> sides_;
};

}  // namespace shapes
