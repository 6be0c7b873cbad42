// RUN: dlc-opt %s -split-input-file -verify-diagnostics
// The structure dl.fused_elementwise's verifier checks.

func.func @arguments(%a: tensor<?x4xf32>) -> tensor<?x4xf32> {
  // expected-error @+1 {{has 0 block arguments for 1 operands}}
  %0 = dl.fused_elementwise %a : (tensor<?x4xf32>) -> tensor<?x4xf32> {
  ^bb0:
    %1 = dl.fill {value = 1.0 : f64} : tensor<3xf32>
    dl.elementwise_yield %1 : tensor<3xf32>
  }
  return %0 : tensor<?x4xf32>
}

// -----

func.func @argument_type(%a: tensor<?x4xf32>) -> tensor<?x4xf32> {
  // expected-error @+1 {{block argument #0 has type 'tensor<?x5xf32>' but its operand has type 'tensor<?x4xf32>'}}
  %0 = dl.fused_elementwise %a : (tensor<?x4xf32>) -> tensor<?x4xf32> {
  ^bb0(%x: tensor<?x5xf32>):
    %1 = dl.relu %x : (tensor<?x5xf32>) -> tensor<?x5xf32>
    dl.elementwise_yield %1 : tensor<?x5xf32>
  }
  return %0 : tensor<?x4xf32>
}

// -----

func.func @yield_types(%a: tensor<?x4xf32>) -> tensor<?x4xf64> {
  // expected-error @+1 {{yields types that differ from its results}}
  %0 = dl.fused_elementwise %a : (tensor<?x4xf32>) -> tensor<?x4xf64> {
  ^bb0(%x: tensor<?x4xf32>):
    %1 = dl.relu %x : (tensor<?x4xf32>) -> tensor<?x4xf32>
    dl.elementwise_yield %1 : tensor<?x4xf32>
  }
  return %0 : tensor<?x4xf64>
}

// -----

func.func @shapes(%a: tensor<?x4xf32>, %b: tensor<?x5xf32>) -> tensor<?x4xf32> {
  // expected-error @+1 {{holds values of shapes}}
  %0 = dl.fused_elementwise %a, %b : (tensor<?x4xf32>, tensor<?x5xf32>) -> tensor<?x4xf32> {
  ^bb0(%x: tensor<?x4xf32>, %y: tensor<?x5xf32>):
    %1 = dl.relu %x : (tensor<?x4xf32>) -> tensor<?x4xf32>
    dl.elementwise_yield %1 : tensor<?x4xf32>
  }
  return %0 : tensor<?x4xf32>
}

// -----

func.func @nested(%a: tensor<?x4xf32>) -> tensor<?x4xf32> {
  // expected-error @+1 {{may hold only dl ops without regions, not 'dl.fused_elementwise'}}
  %0 = dl.fused_elementwise %a : (tensor<?x4xf32>) -> tensor<?x4xf32> {
  ^bb0(%x: tensor<?x4xf32>):
    %1 = dl.fused_elementwise %x : (tensor<?x4xf32>) -> tensor<?x4xf32> {
    ^bb0(%y: tensor<?x4xf32>):
      %2 = dl.relu %y : (tensor<?x4xf32>) -> tensor<?x4xf32>
      dl.elementwise_yield %2 : tensor<?x4xf32>
    }
    dl.elementwise_yield %1 : tensor<?x4xf32>
  }
  return %0 : tensor<?x4xf32>
}

// -----

func.func @empty(%a: tensor<?x4xf32>) -> tensor<?x4xf32> {
  // expected-error @+1 {{holds no op to compute}}
  %0 = dl.fused_elementwise %a : (tensor<?x4xf32>) -> tensor<?x4xf32> {
  ^bb0(%x: tensor<?x4xf32>):
    dl.elementwise_yield %x : tensor<?x4xf32>
  }
  return %0 : tensor<?x4xf32>
}

// -----

func.func @outside(%a: tensor<?x4xf32>) -> tensor<?x4xf32> {
  // expected-note @+1 {{required by region isolation constraints}}
  %0 = dl.fused_elementwise : () -> tensor<?x4xf32> {
    // expected-error @+1 {{using value defined outside the region}}
    %1 = dl.relu %a : (tensor<?x4xf32>) -> tensor<?x4xf32>
    dl.elementwise_yield %1 : tensor<?x4xf32>
  }
  return %0 : tensor<?x4xf32>
}
