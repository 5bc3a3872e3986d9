// Code generated via abigen V2 - DO NOT EDIT.
// This file is a generated binding and any manual changes will be lost.

package distributor

import (
	"bytes"
	"errors"
	"math/big"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/accounts/abi/bind/v2"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// Reference imports to suppress errors if they are not otherwise used.
var (
	_ = bytes.Equal
	_ = errors.New
	_ = big.NewInt
	_ = common.Big1
	_ = types.BloomLookup
	_ = abi.ConvertType
)

// RewardsDistributorMetaData contains all meta data concerning the RewardsDistributor contract.
var RewardsDistributorMetaData = bind.MetaData{
	ABI: "[{\"inputs\":[{\"internalType\":\"contractIERC20\",\"name\":\"token_\",\"type\":\"address\"},{\"internalType\":\"address\",\"name\":\"poster_\",\"type\":\"address\"},{\"internalType\":\"address\",\"name\":\"guardian_\",\"type\":\"address\"},{\"internalType\":\"uint64\",\"name\":\"timelock_\",\"type\":\"uint64\"},{\"internalType\":\"uint256\",\"name\":\"emissionPerEpoch_\",\"type\":\"uint256\"},{\"internalType\":\"uint64\",\"name\":\"firstEpoch_\",\"type\":\"uint64\"}],\"stateMutability\":\"nonpayable\",\"type\":\"constructor\"},{\"inputs\":[{\"internalType\":\"uint256\",\"name\":\"total\",\"type\":\"uint256\"},{\"internalType\":\"uint256\",\"name\":\"claimed\",\"type\":\"uint256\"}],\"name\":\"BelowClaimed\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"ClaimsPaused\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint64\",\"name\":\"firstEpoch\",\"type\":\"uint64\"},{\"internalType\":\"uint64\",\"name\":\"proposed\",\"type\":\"uint64\"}],\"name\":\"EpochBeforeSchedule\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint64\",\"name\":\"latest\",\"type\":\"uint64\"},{\"internalType\":\"uint64\",\"name\":\"proposed\",\"type\":\"uint64\"}],\"name\":\"EpochNotIncreasing\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"InvalidProof\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"LengthMismatch\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"NoPendingRoot\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"NotGuardian\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"NotPoster\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"NothingToClaim\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint256\",\"name\":\"total\",\"type\":\"uint256\"},{\"internalType\":\"uint256\",\"name\":\"cap\",\"type\":\"uint256\"}],\"name\":\"OverEmissionCap\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint64\",\"name\":\"activatesAt\",\"type\":\"uint64\"}],\"name\":\"PendingRootNotActive\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"token\",\"type\":\"address\"}],\"name\":\"SafeERC20FailedOperation\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"ZeroRoot\",\"type\":\"error\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"address\",\"name\":\"account\",\"type\":\"address\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"amount\",\"type\":\"uint256\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"cumulativeAmount\",\"type\":\"uint256\"}],\"name\":\"Claimed\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":false,\"internalType\":\"address\",\"name\":\"guardian\",\"type\":\"address\"}],\"name\":\"Paused\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"uint64\",\"name\":\"epoch\",\"type\":\"uint64\"},{\"indexed\":false,\"internalType\":\"bytes32\",\"name\":\"root\",\"type\":\"bytes32\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"total\",\"type\":\"uint256\"}],\"name\":\"RootActivated\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"uint64\",\"name\":\"epoch\",\"type\":\"uint64\"},{\"indexed\":false,\"internalType\":\"bytes32\",\"name\":\"root\",\"type\":\"bytes32\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"total\",\"type\":\"uint256\"},{\"indexed\":false,\"internalType\":\"uint64\",\"name\":\"activatesAt\",\"type\":\"uint64\"}],\"name\":\"RootProposed\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"uint64\",\"name\":\"epoch\",\"type\":\"uint64\"},{\"indexed\":false,\"internalType\":\"bytes32\",\"name\":\"root\",\"type\":\"bytes32\"}],\"name\":\"RootRevoked\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":false,\"internalType\":\"address\",\"name\":\"guardian\",\"type\":\"address\"}],\"name\":\"Unpaused\",\"type\":\"event\"},{\"inputs\":[],\"name\":\"activateRoot\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"account\",\"type\":\"address\"},{\"internalType\":\"uint256\",\"name\":\"cumulativeAmount\",\"type\":\"uint256\"},{\"internalType\":\"bytes32[]\",\"name\":\"proof\",\"type\":\"bytes32[]\"}],\"name\":\"claim\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address[]\",\"name\":\"accounts\",\"type\":\"address[]\"},{\"internalType\":\"uint256[]\",\"name\":\"cumulativeAmounts\",\"type\":\"uint256[]\"},{\"internalType\":\"bytes32[][]\",\"name\":\"proofs\",\"type\":\"bytes32[][]\"}],\"name\":\"claimMany\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"account\",\"type\":\"address\"}],\"name\":\"claimed\",\"outputs\":[{\"internalType\":\"uint256\",\"name\":\"\",\"type\":\"uint256\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"uint64\",\"name\":\"epoch_\",\"type\":\"uint64\"}],\"name\":\"emissionCap\",\"outputs\":[{\"internalType\":\"uint256\",\"name\":\"\",\"type\":\"uint256\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"emissionPerEpoch\",\"outputs\":[{\"internalType\":\"uint256\",\"name\":\"\",\"type\":\"uint256\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"epoch\",\"outputs\":[{\"internalType\":\"uint64\",\"name\":\"\",\"type\":\"uint64\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"firstEpoch\",\"outputs\":[{\"internalType\":\"uint64\",\"name\":\"\",\"type\":\"uint64\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"guardian\",\"outputs\":[{\"internalType\":\"address\",\"name\":\"\",\"type\":\"address\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"pause\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"paused\",\"outputs\":[{\"internalType\":\"bool\",\"name\":\"\",\"type\":\"bool\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"pendingActivatesAt\",\"outputs\":[{\"internalType\":\"uint64\",\"name\":\"\",\"type\":\"uint64\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"pendingEpoch\",\"outputs\":[{\"internalType\":\"uint64\",\"name\":\"\",\"type\":\"uint64\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"pendingRoot\",\"outputs\":[{\"internalType\":\"bytes32\",\"name\":\"\",\"type\":\"bytes32\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"pendingTotal\",\"outputs\":[{\"internalType\":\"uint256\",\"name\":\"\",\"type\":\"uint256\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"poster\",\"outputs\":[{\"internalType\":\"address\",\"name\":\"\",\"type\":\"address\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"uint64\",\"name\":\"epoch_\",\"type\":\"uint64\"},{\"internalType\":\"bytes32\",\"name\":\"root_\",\"type\":\"bytes32\"},{\"internalType\":\"uint256\",\"name\":\"total_\",\"type\":\"uint256\"}],\"name\":\"proposeRoot\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"revokePendingRoot\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"root\",\"outputs\":[{\"internalType\":\"bytes32\",\"name\":\"\",\"type\":\"bytes32\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"timelock\",\"outputs\":[{\"internalType\":\"uint64\",\"name\":\"\",\"type\":\"uint64\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"token\",\"outputs\":[{\"internalType\":\"contractIERC20\",\"name\":\"\",\"type\":\"address\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"total\",\"outputs\":[{\"internalType\":\"uint256\",\"name\":\"\",\"type\":\"uint256\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"totalClaimed\",\"outputs\":[{\"internalType\":\"uint256\",\"name\":\"\",\"type\":\"uint256\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"unpause\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"}]",
	ID:  "RewardsDistributor",
	Bin: "0x610140604052348015610010575f5ffd5b5060405161167c38038061167c83398101604081905261002f91610098565b6001600160a01b0395861660805293851660a0529190931660c0526001600160401b0392831660e052610100521661012052610109565b6001600160a01b038116811461007a575f5ffd5b50565b80516001600160401b0381168114610093575f5ffd5b919050565b5f5f5f5f5f5f60c087890312156100ad575f5ffd5b86516100b881610066565b60208801519096506100c981610066565b60408801519095506100da81610066565b93506100e86060880161007d565b9250608087015191506100fd60a0880161007d565b90509295509295509295565b60805160a05160c05160e05161010051610120516114d86101a45f395f81816101ed01528181610560015281816105cb01528181610b9e0152610be401525f81816102aa0152610c2401525f818161037e015281816106a0015261076001525f818161022d01528181610847015281816109140152610a4a01525f81816102da015261040401525f81816103ca0152610f9a01526114d85ff3fe608060405234801561000f575f5ffd5b506004361061018f575f3560e01c80638456cb59116100dd578063c884ef8311610088578063ebf0c71711610063578063ebf0c717146103a9578063f552501a146103b1578063fc0c546a146103c5575f5ffd5b8063c884ef831461035a578063d33219b414610379578063d54ad2a1146103a0575f5ffd5b8063a26a6136116100b8578063a26a613614610320578063b15ce3c914610334578063bc4d546714610347575f5ffd5b80638456cb59146102fc578063900cf0cf14610304578063979bc1d214610318575f5ffd5b8063452a93201161013d5780636774d2f5116101185780636774d2f5146102a5578063750588cf146102cc57806380959721146102d5575f5ffd5b8063452a9320146102285780634b387053146102745780635c975abb1461027c575f5ffd5b80633d13f8741161016d5780633d13f874146101cd5780633f4ba83a146101e057806341682744146101e8575f5ffd5b806304ce7f94146101935780632ddbd13a146101a857806336a1b5a0146101c4575b5f5ffd5b6101a66101a13660046111a5565b6103ec565b005b6101b160025481565b6040519081526020015b60405180910390f35b6101b160055481565b6101a66101db366004611240565b61079e565b6101a661082f565b61020f7f000000000000000000000000000000000000000000000000000000000000000081565b60405167ffffffffffffffff90911681526020016101bb565b61024f7f000000000000000000000000000000000000000000000000000000000000000081565b60405173ffffffffffffffffffffffffffffffffffffffff90911681526020016101bb565b6101a66108fc565b6006546102959068010000000000000000900460ff1681565b60405190151581526020016101bb565b6101b17f000000000000000000000000000000000000000000000000000000000000000081565b6101b160035481565b61024f7f000000000000000000000000000000000000000000000000000000000000000081565b6101a6610a32565b60015461020f9067ffffffffffffffff1681565b6101a6610b04565b60065461020f9067ffffffffffffffff1681565b6101b1610342366004611296565b610b9b565b6101a66103553660046112af565b610c4e565b6101b161036836600461134e565b60076020525f908152604090205481565b61020f7f000000000000000000000000000000000000000000000000000000000000000081565b6101b160085481565b6101b15f5481565b60045461020f9067ffffffffffffffff1681565b61024f7f000000000000000000000000000000000000000000000000000000000000000081565b3373ffffffffffffffffffffffffffffffffffffffff7f0000000000000000000000000000000000000000000000000000000000000000161461045b576040517f1dba048e00000000000000000000000000000000000000000000000000000000815260040160405180910390fd5b81610492576040517fb263ae7300000000000000000000000000000000000000000000000000000000815260040160405180910390fd5b600354156104fd5760065467ffffffffffffffff164210156104f5576006546040517f6e11b18c00000000000000000000000000000000000000000000000000000000815267ffffffffffffffff90911660048201526024015b60405180910390fd5b6104fd610d65565b60015467ffffffffffffffff9081169084161161055e576001546040517f98152d8200000000000000000000000000000000000000000000000000000000815267ffffffffffffffff918216600482015290841660248201526044016104ec565b7f000000000000000000000000000000000000000000000000000000000000000067ffffffffffffffff168367ffffffffffffffff161015610600576040517f5856a3a900000000000000000000000000000000000000000000000000000000815267ffffffffffffffff7f000000000000000000000000000000000000000000000000000000000000000081166004830152841660248201526044016104ec565b5f61060a84610b9b565b905080821115610650576040517f7073e9ee00000000000000000000000000000000000000000000000000000000815260048101839052602481018290526044016104ec565b60085482101561069a576008546040517fe16b098e0000000000000000000000000000000000000000000000000000000081526104ec918491600401918252602082015260400190565b5f6106c57f000000000000000000000000000000000000000000000000000000000000000042611394565b6003859055600480547fffffffffffffffffffffffffffffffffffffffffffffffff000000000000000090811667ffffffffffffffff8981169182179093556005879055600680549092169284169283179091556040805188815260208101889052908101929092529192507f8ba6dbb7e67f31a03274ddb7d78bbb3cb84abbba52657c4850e44e4436a964b79060600160405180910390a27f000000000000000000000000000000000000000000000000000000000000000067ffffffffffffffff165f0361079757610797610d65565b5050505050565b60065468010000000000000000900460ff16156107e7576040517f7cdf17ad00000000000000000000000000000000000000000000000000000000815260040160405180910390fd5b6107f384848484610de8565b610829576040517f969bf72800000000000000000000000000000000000000000000000000000000815260040160405180910390fd5b50505050565b3373ffffffffffffffffffffffffffffffffffffffff7f0000000000000000000000000000000000000000000000000000000000000000161461089e576040517fef6d0f0200000000000000000000000000000000000000000000000000000000815260040160405180910390fd5b600680547fffffffffffffffffffffffffffffffffffffffffffffff00ffffffffffffffff1690556040513381527f5db9ee0a495bf2e6ff9c91a7834c1ba4fdd244a5e8aa4e537bd38aeae4b073aa906020015b60405180910390a1565b3373ffffffffffffffffffffffffffffffffffffffff7f0000000000000000000000000000000000000000000000000000000000000000161461096b576040517fef6d0f0200000000000000000000000000000000000000000000000000000000815260040160405180910390fd5b6003546109a4576040517f2a01895e00000000000000000000000000000000000000000000000000000000815260040160405180910390fd5b60045460035460405190815267ffffffffffffffff909116907fd7c28c8e5cf8035d6d2cbe01c4fb4f61ab13923eae524e0adf91dee3e573175a906020015b60405180910390a2610a305f6003819055600480547fffffffffffffffffffffffffffffffffffffffffffffffff0000000000000000908116909155600591909155600680549091169055565b565b3373ffffffffffffffffffffffffffffffffffffffff7f00000000000000000000000000000000000000000000000000000000000000001614610aa1576040517fef6d0f0200000000000000000000000000000000000000000000000000000000815260040160405180910390fd5b600680547fffffffffffffffffffffffffffffffffffffffffffffff00ffffffffffffffff16680100000000000000001790556040513381527f62e78cea01bee320cd4e420270b5ea74000d11b0c9f74754ebdbfc544b05a258906020016108f2565b600354610b3d576040517f2a01895e00000000000000000000000000000000000000000000000000000000815260040160405180910390fd5b60065467ffffffffffffffff16421015610b93576006546040517f6e11b18c00000000000000000000000000000000000000000000000000000000815267ffffffffffffffff90911660048201526024016104ec565b610a30610d65565b5f7f000000000000000000000000000000000000000000000000000000000000000067ffffffffffffffff168267ffffffffffffffff161015610bdf57505f919050565b610c097f0000000000000000000000000000000000000000000000000000000000000000836113b4565b610c1e9067ffffffffffffffff1660016113d4565b610c48907f00000000000000000000000000000000000000000000000000000000000000006113e7565b92915050565b60065468010000000000000000900460ff1615610c97576040517f7cdf17ad00000000000000000000000000000000000000000000000000000000815260040160405180910390fd5b8483141580610ca65750848114155b15610cdd576040517fff633a3800000000000000000000000000000000000000000000000000000000815260040160405180910390fd5b5f5b85811015610d5c57610d53878783818110610cfc57610cfc6113fe565b9050602002016020810190610d11919061134e565b868684818110610d2357610d236113fe565b90506020020135858585818110610d3c57610d3c6113fe565b9050602002810190610d4e919061142b565b610de8565b50600101610cdf565b50505050505050565b6003545f819055600454600180547fffffffffffffffffffffffffffffffffffffffffffffffff00000000000000001667ffffffffffffffff9092169182179055600554600281905560405191927f9e4dbc3e4b78886ae23dcc1bd3019ad0a9d4f0ca4d92bab214dcdbe63c9ab63e926109e39290918252602082015260400190565b6040805173ffffffffffffffffffffffffffffffffffffffff861660208201529081018490525f908190606001604080517fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe081840301815282825280516020918201209083015201604051602081830303815290604052805190602001209050610e7584845f5484610fd1565b610eab576040517f09bde33900000000000000000000000000000000000000000000000000000000815260040160405180910390fd5b73ffffffffffffffffffffffffffffffffffffffff86165f90815260076020526040902054808611610ee1575f92505050610fc9565b5f610eec828861148f565b73ffffffffffffffffffffffffffffffffffffffff89165f908152600760205260408120899055600880549293508392909190610f2a9084906113d4565b9091555050604080518281526020810189905273ffffffffffffffffffffffffffffffffffffffff8a16917f987d620f307ff6b94d58743cb7a7509f24071586a77759b77c2d4e29f75a2f9a910160405180910390a2610fc173ffffffffffffffffffffffffffffffffffffffff7f0000000000000000000000000000000000000000000000000000000000000000168983610fe8565b600193505050505b949350505050565b5f82610fde86868561107a565b1495945050505050565b6040805173ffffffffffffffffffffffffffffffffffffffff8416602482015260448082018490528251808303909101815260649091019091526020810180517bffffffffffffffffffffffffffffffffffffffffffffffffffffffff167fa9059cbb000000000000000000000000000000000000000000000000000000001790526110759084906110bb565b505050565b5f81815b848110156110b2576110a88287878481811061109c5761109c6113fe565b9050602002013561115a565b915060010161107e565b50949350505050565b5f5f60205f8451602086015f885af1806110da576040513d5f823e3d81fd5b50505f513d915081156110f157806001141561110b565b73ffffffffffffffffffffffffffffffffffffffff84163b155b15610829576040517f5274afe700000000000000000000000000000000000000000000000000000000815273ffffffffffffffffffffffffffffffffffffffff851660048201526024016104ec565b5f818310611174575f828152602084905260409020611182565b5f8381526020839052604090205b9392505050565b803567ffffffffffffffff811681146111a0575f5ffd5b919050565b5f5f5f606084860312156111b7575f5ffd5b6111c084611189565b95602085013595506040909401359392505050565b803573ffffffffffffffffffffffffffffffffffffffff811681146111a0575f5ffd5b5f5f83601f840112611208575f5ffd5b50813567ffffffffffffffff81111561121f575f5ffd5b6020830191508360208260051b8501011115611239575f5ffd5b9250929050565b5f5f5f5f60608587031215611253575f5ffd5b61125c856111d5565b935060208501359250604085013567ffffffffffffffff81111561127e575f5ffd5b61128a878288016111f8565b95989497509550505050565b5f602082840312156112a6575f5ffd5b61118282611189565b5f5f5f5f5f5f606087890312156112c4575f5ffd5b863567ffffffffffffffff8111156112da575f5ffd5b6112e689828a016111f8565b909750955050602087013567ffffffffffffffff811115611305575f5ffd5b61131189828a016111f8565b909550935050604087013567ffffffffffffffff811115611330575f5ffd5b61133c89828a016111f8565b979a9699509497509295939492505050565b5f6020828403121561135e575f5ffd5b611182826111d5565b7f4e487b71000000000000000000000000000000000000000000000000000000005f52601160045260245ffd5b67ffffffffffffffff8181168382160190811115610c4857610c48611367565b67ffffffffffffffff8281168282160390811115610c4857610c48611367565b80820180821115610c4857610c48611367565b8082028115828204841417610c4857610c48611367565b7f4e487b71000000000000000000000000000000000000000000000000000000005f52603260045260245ffd5b5f5f83357fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe184360301811261145e575f5ffd5b83018035915067ffffffffffffffff821115611478575f5ffd5b6020019150600581901b3603821315611239575f5ffd5b81810381811115610c4857610c4861136756fea26469706673582212209dac8061a2e8e01fbac06bc31d9e795f9af3edf3d16db84ddc2a4dc469e3fe2e64736f6c634300081c0033",
}

// RewardsDistributor is an auto generated Go binding around an Ethereum contract.
type RewardsDistributor struct {
	abi abi.ABI
}

// GetABI returns the ABI associated with this contract binding.
func (c *RewardsDistributor) GetABI() abi.ABI {
	return c.abi
}

// NewRewardsDistributor creates a new instance of RewardsDistributor.
func NewRewardsDistributor() *RewardsDistributor {
	parsed, err := RewardsDistributorMetaData.ParseABI()
	if err != nil {
		panic(errors.New("invalid ABI: " + err.Error()))
	}
	return &RewardsDistributor{abi: *parsed}
}

// Instance creates a wrapper for a deployed contract instance at the given address.
// Use this to create the instance object passed to abigen v2 library functions Call, Transact, etc.
func (c *RewardsDistributor) Instance(backend bind.ContractBackend, addr common.Address) *bind.BoundContract {
	return bind.NewBoundContract(addr, c.abi, backend, backend, backend)
}

// PackConstructor is the Go binding used to pack the parameters required for
// contract deployment.
//
// Solidity: constructor(address token_, address poster_, address guardian_, uint64 timelock_, uint256 emissionPerEpoch_, uint64 firstEpoch_) returns()
func (rewardsDistributor *RewardsDistributor) PackConstructor(token_ common.Address, poster_ common.Address, guardian_ common.Address, timelock_ uint64, emissionPerEpoch_ *big.Int, firstEpoch_ uint64) []byte {
	enc, err := rewardsDistributor.abi.Pack("", token_, poster_, guardian_, timelock_, emissionPerEpoch_, firstEpoch_)
	if err != nil {
		panic(err)
	}
	return enc
}

// PackActivateRoot is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x979bc1d2.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function activateRoot() returns()
func (rewardsDistributor *RewardsDistributor) PackActivateRoot() []byte {
	enc, err := rewardsDistributor.abi.Pack("activateRoot")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackActivateRoot is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x979bc1d2.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function activateRoot() returns()
func (rewardsDistributor *RewardsDistributor) TryPackActivateRoot() ([]byte, error) {
	return rewardsDistributor.abi.Pack("activateRoot")
}

// PackClaim is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x3d13f874.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function claim(address account, uint256 cumulativeAmount, bytes32[] proof) returns()
func (rewardsDistributor *RewardsDistributor) PackClaim(account common.Address, cumulativeAmount *big.Int, proof [][32]byte) []byte {
	enc, err := rewardsDistributor.abi.Pack("claim", account, cumulativeAmount, proof)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackClaim is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x3d13f874.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function claim(address account, uint256 cumulativeAmount, bytes32[] proof) returns()
func (rewardsDistributor *RewardsDistributor) TryPackClaim(account common.Address, cumulativeAmount *big.Int, proof [][32]byte) ([]byte, error) {
	return rewardsDistributor.abi.Pack("claim", account, cumulativeAmount, proof)
}

// PackClaimMany is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xbc4d5467.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function claimMany(address[] accounts, uint256[] cumulativeAmounts, bytes32[][] proofs) returns()
func (rewardsDistributor *RewardsDistributor) PackClaimMany(accounts []common.Address, cumulativeAmounts []*big.Int, proofs [][][32]byte) []byte {
	enc, err := rewardsDistributor.abi.Pack("claimMany", accounts, cumulativeAmounts, proofs)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackClaimMany is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xbc4d5467.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function claimMany(address[] accounts, uint256[] cumulativeAmounts, bytes32[][] proofs) returns()
func (rewardsDistributor *RewardsDistributor) TryPackClaimMany(accounts []common.Address, cumulativeAmounts []*big.Int, proofs [][][32]byte) ([]byte, error) {
	return rewardsDistributor.abi.Pack("claimMany", accounts, cumulativeAmounts, proofs)
}

// PackClaimed is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xc884ef83.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function claimed(address account) view returns(uint256)
func (rewardsDistributor *RewardsDistributor) PackClaimed(account common.Address) []byte {
	enc, err := rewardsDistributor.abi.Pack("claimed", account)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackClaimed is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xc884ef83.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function claimed(address account) view returns(uint256)
func (rewardsDistributor *RewardsDistributor) TryPackClaimed(account common.Address) ([]byte, error) {
	return rewardsDistributor.abi.Pack("claimed", account)
}

// UnpackClaimed is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0xc884ef83.
//
// Solidity: function claimed(address account) view returns(uint256)
func (rewardsDistributor *RewardsDistributor) UnpackClaimed(data []byte) (*big.Int, error) {
	out, err := rewardsDistributor.abi.Unpack("claimed", data)
	if err != nil {
		return new(big.Int), err
	}
	out0 := abi.ConvertType(out[0], new(big.Int)).(*big.Int)
	return out0, nil
}

// PackEmissionCap is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xb15ce3c9.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function emissionCap(uint64 epoch_) view returns(uint256)
func (rewardsDistributor *RewardsDistributor) PackEmissionCap(epoch uint64) []byte {
	enc, err := rewardsDistributor.abi.Pack("emissionCap", epoch)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackEmissionCap is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xb15ce3c9.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function emissionCap(uint64 epoch_) view returns(uint256)
func (rewardsDistributor *RewardsDistributor) TryPackEmissionCap(epoch uint64) ([]byte, error) {
	return rewardsDistributor.abi.Pack("emissionCap", epoch)
}

// UnpackEmissionCap is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0xb15ce3c9.
//
// Solidity: function emissionCap(uint64 epoch_) view returns(uint256)
func (rewardsDistributor *RewardsDistributor) UnpackEmissionCap(data []byte) (*big.Int, error) {
	out, err := rewardsDistributor.abi.Unpack("emissionCap", data)
	if err != nil {
		return new(big.Int), err
	}
	out0 := abi.ConvertType(out[0], new(big.Int)).(*big.Int)
	return out0, nil
}

// PackEmissionPerEpoch is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x6774d2f5.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function emissionPerEpoch() view returns(uint256)
func (rewardsDistributor *RewardsDistributor) PackEmissionPerEpoch() []byte {
	enc, err := rewardsDistributor.abi.Pack("emissionPerEpoch")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackEmissionPerEpoch is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x6774d2f5.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function emissionPerEpoch() view returns(uint256)
func (rewardsDistributor *RewardsDistributor) TryPackEmissionPerEpoch() ([]byte, error) {
	return rewardsDistributor.abi.Pack("emissionPerEpoch")
}

// UnpackEmissionPerEpoch is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x6774d2f5.
//
// Solidity: function emissionPerEpoch() view returns(uint256)
func (rewardsDistributor *RewardsDistributor) UnpackEmissionPerEpoch(data []byte) (*big.Int, error) {
	out, err := rewardsDistributor.abi.Unpack("emissionPerEpoch", data)
	if err != nil {
		return new(big.Int), err
	}
	out0 := abi.ConvertType(out[0], new(big.Int)).(*big.Int)
	return out0, nil
}

// PackEpoch is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x900cf0cf.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function epoch() view returns(uint64)
func (rewardsDistributor *RewardsDistributor) PackEpoch() []byte {
	enc, err := rewardsDistributor.abi.Pack("epoch")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackEpoch is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x900cf0cf.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function epoch() view returns(uint64)
func (rewardsDistributor *RewardsDistributor) TryPackEpoch() ([]byte, error) {
	return rewardsDistributor.abi.Pack("epoch")
}

// UnpackEpoch is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x900cf0cf.
//
// Solidity: function epoch() view returns(uint64)
func (rewardsDistributor *RewardsDistributor) UnpackEpoch(data []byte) (uint64, error) {
	out, err := rewardsDistributor.abi.Unpack("epoch", data)
	if err != nil {
		return *new(uint64), err
	}
	out0 := *abi.ConvertType(out[0], new(uint64)).(*uint64)
	return out0, nil
}

// PackFirstEpoch is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x41682744.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function firstEpoch() view returns(uint64)
func (rewardsDistributor *RewardsDistributor) PackFirstEpoch() []byte {
	enc, err := rewardsDistributor.abi.Pack("firstEpoch")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackFirstEpoch is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x41682744.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function firstEpoch() view returns(uint64)
func (rewardsDistributor *RewardsDistributor) TryPackFirstEpoch() ([]byte, error) {
	return rewardsDistributor.abi.Pack("firstEpoch")
}

// UnpackFirstEpoch is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x41682744.
//
// Solidity: function firstEpoch() view returns(uint64)
func (rewardsDistributor *RewardsDistributor) UnpackFirstEpoch(data []byte) (uint64, error) {
	out, err := rewardsDistributor.abi.Unpack("firstEpoch", data)
	if err != nil {
		return *new(uint64), err
	}
	out0 := *abi.ConvertType(out[0], new(uint64)).(*uint64)
	return out0, nil
}

// PackGuardian is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x452a9320.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function guardian() view returns(address)
func (rewardsDistributor *RewardsDistributor) PackGuardian() []byte {
	enc, err := rewardsDistributor.abi.Pack("guardian")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackGuardian is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x452a9320.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function guardian() view returns(address)
func (rewardsDistributor *RewardsDistributor) TryPackGuardian() ([]byte, error) {
	return rewardsDistributor.abi.Pack("guardian")
}

// UnpackGuardian is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x452a9320.
//
// Solidity: function guardian() view returns(address)
func (rewardsDistributor *RewardsDistributor) UnpackGuardian(data []byte) (common.Address, error) {
	out, err := rewardsDistributor.abi.Unpack("guardian", data)
	if err != nil {
		return *new(common.Address), err
	}
	out0 := *abi.ConvertType(out[0], new(common.Address)).(*common.Address)
	return out0, nil
}

// PackPause is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x8456cb59.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function pause() returns()
func (rewardsDistributor *RewardsDistributor) PackPause() []byte {
	enc, err := rewardsDistributor.abi.Pack("pause")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackPause is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x8456cb59.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function pause() returns()
func (rewardsDistributor *RewardsDistributor) TryPackPause() ([]byte, error) {
	return rewardsDistributor.abi.Pack("pause")
}

// PackPaused is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x5c975abb.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function paused() view returns(bool)
func (rewardsDistributor *RewardsDistributor) PackPaused() []byte {
	enc, err := rewardsDistributor.abi.Pack("paused")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackPaused is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x5c975abb.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function paused() view returns(bool)
func (rewardsDistributor *RewardsDistributor) TryPackPaused() ([]byte, error) {
	return rewardsDistributor.abi.Pack("paused")
}

// UnpackPaused is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x5c975abb.
//
// Solidity: function paused() view returns(bool)
func (rewardsDistributor *RewardsDistributor) UnpackPaused(data []byte) (bool, error) {
	out, err := rewardsDistributor.abi.Unpack("paused", data)
	if err != nil {
		return *new(bool), err
	}
	out0 := *abi.ConvertType(out[0], new(bool)).(*bool)
	return out0, nil
}

// PackPendingActivatesAt is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xa26a6136.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function pendingActivatesAt() view returns(uint64)
func (rewardsDistributor *RewardsDistributor) PackPendingActivatesAt() []byte {
	enc, err := rewardsDistributor.abi.Pack("pendingActivatesAt")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackPendingActivatesAt is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xa26a6136.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function pendingActivatesAt() view returns(uint64)
func (rewardsDistributor *RewardsDistributor) TryPackPendingActivatesAt() ([]byte, error) {
	return rewardsDistributor.abi.Pack("pendingActivatesAt")
}

// UnpackPendingActivatesAt is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0xa26a6136.
//
// Solidity: function pendingActivatesAt() view returns(uint64)
func (rewardsDistributor *RewardsDistributor) UnpackPendingActivatesAt(data []byte) (uint64, error) {
	out, err := rewardsDistributor.abi.Unpack("pendingActivatesAt", data)
	if err != nil {
		return *new(uint64), err
	}
	out0 := *abi.ConvertType(out[0], new(uint64)).(*uint64)
	return out0, nil
}

// PackPendingEpoch is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xf552501a.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function pendingEpoch() view returns(uint64)
func (rewardsDistributor *RewardsDistributor) PackPendingEpoch() []byte {
	enc, err := rewardsDistributor.abi.Pack("pendingEpoch")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackPendingEpoch is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xf552501a.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function pendingEpoch() view returns(uint64)
func (rewardsDistributor *RewardsDistributor) TryPackPendingEpoch() ([]byte, error) {
	return rewardsDistributor.abi.Pack("pendingEpoch")
}

// UnpackPendingEpoch is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0xf552501a.
//
// Solidity: function pendingEpoch() view returns(uint64)
func (rewardsDistributor *RewardsDistributor) UnpackPendingEpoch(data []byte) (uint64, error) {
	out, err := rewardsDistributor.abi.Unpack("pendingEpoch", data)
	if err != nil {
		return *new(uint64), err
	}
	out0 := *abi.ConvertType(out[0], new(uint64)).(*uint64)
	return out0, nil
}

// PackPendingRoot is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x750588cf.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function pendingRoot() view returns(bytes32)
func (rewardsDistributor *RewardsDistributor) PackPendingRoot() []byte {
	enc, err := rewardsDistributor.abi.Pack("pendingRoot")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackPendingRoot is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x750588cf.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function pendingRoot() view returns(bytes32)
func (rewardsDistributor *RewardsDistributor) TryPackPendingRoot() ([]byte, error) {
	return rewardsDistributor.abi.Pack("pendingRoot")
}

// UnpackPendingRoot is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x750588cf.
//
// Solidity: function pendingRoot() view returns(bytes32)
func (rewardsDistributor *RewardsDistributor) UnpackPendingRoot(data []byte) ([32]byte, error) {
	out, err := rewardsDistributor.abi.Unpack("pendingRoot", data)
	if err != nil {
		return *new([32]byte), err
	}
	out0 := *abi.ConvertType(out[0], new([32]byte)).(*[32]byte)
	return out0, nil
}

// PackPendingTotal is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x36a1b5a0.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function pendingTotal() view returns(uint256)
func (rewardsDistributor *RewardsDistributor) PackPendingTotal() []byte {
	enc, err := rewardsDistributor.abi.Pack("pendingTotal")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackPendingTotal is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x36a1b5a0.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function pendingTotal() view returns(uint256)
func (rewardsDistributor *RewardsDistributor) TryPackPendingTotal() ([]byte, error) {
	return rewardsDistributor.abi.Pack("pendingTotal")
}

// UnpackPendingTotal is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x36a1b5a0.
//
// Solidity: function pendingTotal() view returns(uint256)
func (rewardsDistributor *RewardsDistributor) UnpackPendingTotal(data []byte) (*big.Int, error) {
	out, err := rewardsDistributor.abi.Unpack("pendingTotal", data)
	if err != nil {
		return new(big.Int), err
	}
	out0 := abi.ConvertType(out[0], new(big.Int)).(*big.Int)
	return out0, nil
}

// PackPoster is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x80959721.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function poster() view returns(address)
func (rewardsDistributor *RewardsDistributor) PackPoster() []byte {
	enc, err := rewardsDistributor.abi.Pack("poster")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackPoster is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x80959721.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function poster() view returns(address)
func (rewardsDistributor *RewardsDistributor) TryPackPoster() ([]byte, error) {
	return rewardsDistributor.abi.Pack("poster")
}

// UnpackPoster is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x80959721.
//
// Solidity: function poster() view returns(address)
func (rewardsDistributor *RewardsDistributor) UnpackPoster(data []byte) (common.Address, error) {
	out, err := rewardsDistributor.abi.Unpack("poster", data)
	if err != nil {
		return *new(common.Address), err
	}
	out0 := *abi.ConvertType(out[0], new(common.Address)).(*common.Address)
	return out0, nil
}

// PackProposeRoot is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x04ce7f94.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function proposeRoot(uint64 epoch_, bytes32 root_, uint256 total_) returns()
func (rewardsDistributor *RewardsDistributor) PackProposeRoot(epoch uint64, root [32]byte, total *big.Int) []byte {
	enc, err := rewardsDistributor.abi.Pack("proposeRoot", epoch, root, total)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackProposeRoot is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x04ce7f94.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function proposeRoot(uint64 epoch_, bytes32 root_, uint256 total_) returns()
func (rewardsDistributor *RewardsDistributor) TryPackProposeRoot(epoch uint64, root [32]byte, total *big.Int) ([]byte, error) {
	return rewardsDistributor.abi.Pack("proposeRoot", epoch, root, total)
}

// PackRevokePendingRoot is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x4b387053.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function revokePendingRoot() returns()
func (rewardsDistributor *RewardsDistributor) PackRevokePendingRoot() []byte {
	enc, err := rewardsDistributor.abi.Pack("revokePendingRoot")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackRevokePendingRoot is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x4b387053.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function revokePendingRoot() returns()
func (rewardsDistributor *RewardsDistributor) TryPackRevokePendingRoot() ([]byte, error) {
	return rewardsDistributor.abi.Pack("revokePendingRoot")
}

// PackRoot is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xebf0c717.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function root() view returns(bytes32)
func (rewardsDistributor *RewardsDistributor) PackRoot() []byte {
	enc, err := rewardsDistributor.abi.Pack("root")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackRoot is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xebf0c717.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function root() view returns(bytes32)
func (rewardsDistributor *RewardsDistributor) TryPackRoot() ([]byte, error) {
	return rewardsDistributor.abi.Pack("root")
}

// UnpackRoot is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0xebf0c717.
//
// Solidity: function root() view returns(bytes32)
func (rewardsDistributor *RewardsDistributor) UnpackRoot(data []byte) ([32]byte, error) {
	out, err := rewardsDistributor.abi.Unpack("root", data)
	if err != nil {
		return *new([32]byte), err
	}
	out0 := *abi.ConvertType(out[0], new([32]byte)).(*[32]byte)
	return out0, nil
}

// PackTimelock is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xd33219b4.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function timelock() view returns(uint64)
func (rewardsDistributor *RewardsDistributor) PackTimelock() []byte {
	enc, err := rewardsDistributor.abi.Pack("timelock")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackTimelock is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xd33219b4.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function timelock() view returns(uint64)
func (rewardsDistributor *RewardsDistributor) TryPackTimelock() ([]byte, error) {
	return rewardsDistributor.abi.Pack("timelock")
}

// UnpackTimelock is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0xd33219b4.
//
// Solidity: function timelock() view returns(uint64)
func (rewardsDistributor *RewardsDistributor) UnpackTimelock(data []byte) (uint64, error) {
	out, err := rewardsDistributor.abi.Unpack("timelock", data)
	if err != nil {
		return *new(uint64), err
	}
	out0 := *abi.ConvertType(out[0], new(uint64)).(*uint64)
	return out0, nil
}

// PackToken is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xfc0c546a.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function token() view returns(address)
func (rewardsDistributor *RewardsDistributor) PackToken() []byte {
	enc, err := rewardsDistributor.abi.Pack("token")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackToken is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xfc0c546a.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function token() view returns(address)
func (rewardsDistributor *RewardsDistributor) TryPackToken() ([]byte, error) {
	return rewardsDistributor.abi.Pack("token")
}

// UnpackToken is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0xfc0c546a.
//
// Solidity: function token() view returns(address)
func (rewardsDistributor *RewardsDistributor) UnpackToken(data []byte) (common.Address, error) {
	out, err := rewardsDistributor.abi.Unpack("token", data)
	if err != nil {
		return *new(common.Address), err
	}
	out0 := *abi.ConvertType(out[0], new(common.Address)).(*common.Address)
	return out0, nil
}

// PackTotal is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x2ddbd13a.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function total() view returns(uint256)
func (rewardsDistributor *RewardsDistributor) PackTotal() []byte {
	enc, err := rewardsDistributor.abi.Pack("total")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackTotal is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x2ddbd13a.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function total() view returns(uint256)
func (rewardsDistributor *RewardsDistributor) TryPackTotal() ([]byte, error) {
	return rewardsDistributor.abi.Pack("total")
}

// UnpackTotal is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x2ddbd13a.
//
// Solidity: function total() view returns(uint256)
func (rewardsDistributor *RewardsDistributor) UnpackTotal(data []byte) (*big.Int, error) {
	out, err := rewardsDistributor.abi.Unpack("total", data)
	if err != nil {
		return new(big.Int), err
	}
	out0 := abi.ConvertType(out[0], new(big.Int)).(*big.Int)
	return out0, nil
}

// PackTotalClaimed is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xd54ad2a1.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function totalClaimed() view returns(uint256)
func (rewardsDistributor *RewardsDistributor) PackTotalClaimed() []byte {
	enc, err := rewardsDistributor.abi.Pack("totalClaimed")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackTotalClaimed is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xd54ad2a1.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function totalClaimed() view returns(uint256)
func (rewardsDistributor *RewardsDistributor) TryPackTotalClaimed() ([]byte, error) {
	return rewardsDistributor.abi.Pack("totalClaimed")
}

// UnpackTotalClaimed is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0xd54ad2a1.
//
// Solidity: function totalClaimed() view returns(uint256)
func (rewardsDistributor *RewardsDistributor) UnpackTotalClaimed(data []byte) (*big.Int, error) {
	out, err := rewardsDistributor.abi.Unpack("totalClaimed", data)
	if err != nil {
		return new(big.Int), err
	}
	out0 := abi.ConvertType(out[0], new(big.Int)).(*big.Int)
	return out0, nil
}

// PackUnpause is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x3f4ba83a.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function unpause() returns()
func (rewardsDistributor *RewardsDistributor) PackUnpause() []byte {
	enc, err := rewardsDistributor.abi.Pack("unpause")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackUnpause is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x3f4ba83a.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function unpause() returns()
func (rewardsDistributor *RewardsDistributor) TryPackUnpause() ([]byte, error) {
	return rewardsDistributor.abi.Pack("unpause")
}

// RewardsDistributorClaimed represents a Claimed event raised by the RewardsDistributor contract.
type RewardsDistributorClaimed struct {
	Account          common.Address
	Amount           *big.Int
	CumulativeAmount *big.Int
	Raw              *types.Log // Blockchain specific contextual infos
}

const RewardsDistributorClaimedEventName = "Claimed"

// ContractEventName returns the user-defined event name.
func (RewardsDistributorClaimed) ContractEventName() string {
	return RewardsDistributorClaimedEventName
}

// UnpackClaimedEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event Claimed(address indexed account, uint256 amount, uint256 cumulativeAmount)
func (rewardsDistributor *RewardsDistributor) UnpackClaimedEvent(log *types.Log) (*RewardsDistributorClaimed, error) {
	event := "Claimed"
	if len(log.Topics) == 0 {
		return nil, bind.ErrNoEventSignature
	}
	if log.Topics[0] != rewardsDistributor.abi.Events[event].ID {
		return nil, bind.ErrEventSignatureMismatch
	}
	out := new(RewardsDistributorClaimed)
	if len(log.Data) > 0 {
		if err := rewardsDistributor.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range rewardsDistributor.abi.Events[event].Inputs {
		if arg.Indexed {
			indexed = append(indexed, arg)
		}
	}
	if err := abi.ParseTopics(out, indexed, log.Topics[1:]); err != nil {
		return nil, err
	}
	out.Raw = log
	return out, nil
}

// RewardsDistributorPaused represents a Paused event raised by the RewardsDistributor contract.
type RewardsDistributorPaused struct {
	Guardian common.Address
	Raw      *types.Log // Blockchain specific contextual infos
}

const RewardsDistributorPausedEventName = "Paused"

// ContractEventName returns the user-defined event name.
func (RewardsDistributorPaused) ContractEventName() string {
	return RewardsDistributorPausedEventName
}

// UnpackPausedEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event Paused(address guardian)
func (rewardsDistributor *RewardsDistributor) UnpackPausedEvent(log *types.Log) (*RewardsDistributorPaused, error) {
	event := "Paused"
	if len(log.Topics) == 0 {
		return nil, bind.ErrNoEventSignature
	}
	if log.Topics[0] != rewardsDistributor.abi.Events[event].ID {
		return nil, bind.ErrEventSignatureMismatch
	}
	out := new(RewardsDistributorPaused)
	if len(log.Data) > 0 {
		if err := rewardsDistributor.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range rewardsDistributor.abi.Events[event].Inputs {
		if arg.Indexed {
			indexed = append(indexed, arg)
		}
	}
	if err := abi.ParseTopics(out, indexed, log.Topics[1:]); err != nil {
		return nil, err
	}
	out.Raw = log
	return out, nil
}

// RewardsDistributorRootActivated represents a RootActivated event raised by the RewardsDistributor contract.
type RewardsDistributorRootActivated struct {
	Epoch uint64
	Root  [32]byte
	Total *big.Int
	Raw   *types.Log // Blockchain specific contextual infos
}

const RewardsDistributorRootActivatedEventName = "RootActivated"

// ContractEventName returns the user-defined event name.
func (RewardsDistributorRootActivated) ContractEventName() string {
	return RewardsDistributorRootActivatedEventName
}

// UnpackRootActivatedEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event RootActivated(uint64 indexed epoch, bytes32 root, uint256 total)
func (rewardsDistributor *RewardsDistributor) UnpackRootActivatedEvent(log *types.Log) (*RewardsDistributorRootActivated, error) {
	event := "RootActivated"
	if len(log.Topics) == 0 {
		return nil, bind.ErrNoEventSignature
	}
	if log.Topics[0] != rewardsDistributor.abi.Events[event].ID {
		return nil, bind.ErrEventSignatureMismatch
	}
	out := new(RewardsDistributorRootActivated)
	if len(log.Data) > 0 {
		if err := rewardsDistributor.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range rewardsDistributor.abi.Events[event].Inputs {
		if arg.Indexed {
			indexed = append(indexed, arg)
		}
	}
	if err := abi.ParseTopics(out, indexed, log.Topics[1:]); err != nil {
		return nil, err
	}
	out.Raw = log
	return out, nil
}

// RewardsDistributorRootProposed represents a RootProposed event raised by the RewardsDistributor contract.
type RewardsDistributorRootProposed struct {
	Epoch       uint64
	Root        [32]byte
	Total       *big.Int
	ActivatesAt uint64
	Raw         *types.Log // Blockchain specific contextual infos
}

const RewardsDistributorRootProposedEventName = "RootProposed"

// ContractEventName returns the user-defined event name.
func (RewardsDistributorRootProposed) ContractEventName() string {
	return RewardsDistributorRootProposedEventName
}

// UnpackRootProposedEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event RootProposed(uint64 indexed epoch, bytes32 root, uint256 total, uint64 activatesAt)
func (rewardsDistributor *RewardsDistributor) UnpackRootProposedEvent(log *types.Log) (*RewardsDistributorRootProposed, error) {
	event := "RootProposed"
	if len(log.Topics) == 0 {
		return nil, bind.ErrNoEventSignature
	}
	if log.Topics[0] != rewardsDistributor.abi.Events[event].ID {
		return nil, bind.ErrEventSignatureMismatch
	}
	out := new(RewardsDistributorRootProposed)
	if len(log.Data) > 0 {
		if err := rewardsDistributor.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range rewardsDistributor.abi.Events[event].Inputs {
		if arg.Indexed {
			indexed = append(indexed, arg)
		}
	}
	if err := abi.ParseTopics(out, indexed, log.Topics[1:]); err != nil {
		return nil, err
	}
	out.Raw = log
	return out, nil
}

// RewardsDistributorRootRevoked represents a RootRevoked event raised by the RewardsDistributor contract.
type RewardsDistributorRootRevoked struct {
	Epoch uint64
	Root  [32]byte
	Raw   *types.Log // Blockchain specific contextual infos
}

const RewardsDistributorRootRevokedEventName = "RootRevoked"

// ContractEventName returns the user-defined event name.
func (RewardsDistributorRootRevoked) ContractEventName() string {
	return RewardsDistributorRootRevokedEventName
}

// UnpackRootRevokedEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event RootRevoked(uint64 indexed epoch, bytes32 root)
func (rewardsDistributor *RewardsDistributor) UnpackRootRevokedEvent(log *types.Log) (*RewardsDistributorRootRevoked, error) {
	event := "RootRevoked"
	if len(log.Topics) == 0 {
		return nil, bind.ErrNoEventSignature
	}
	if log.Topics[0] != rewardsDistributor.abi.Events[event].ID {
		return nil, bind.ErrEventSignatureMismatch
	}
	out := new(RewardsDistributorRootRevoked)
	if len(log.Data) > 0 {
		if err := rewardsDistributor.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range rewardsDistributor.abi.Events[event].Inputs {
		if arg.Indexed {
			indexed = append(indexed, arg)
		}
	}
	if err := abi.ParseTopics(out, indexed, log.Topics[1:]); err != nil {
		return nil, err
	}
	out.Raw = log
	return out, nil
}

// RewardsDistributorUnpaused represents a Unpaused event raised by the RewardsDistributor contract.
type RewardsDistributorUnpaused struct {
	Guardian common.Address
	Raw      *types.Log // Blockchain specific contextual infos
}

const RewardsDistributorUnpausedEventName = "Unpaused"

// ContractEventName returns the user-defined event name.
func (RewardsDistributorUnpaused) ContractEventName() string {
	return RewardsDistributorUnpausedEventName
}

// UnpackUnpausedEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event Unpaused(address guardian)
func (rewardsDistributor *RewardsDistributor) UnpackUnpausedEvent(log *types.Log) (*RewardsDistributorUnpaused, error) {
	event := "Unpaused"
	if len(log.Topics) == 0 {
		return nil, bind.ErrNoEventSignature
	}
	if log.Topics[0] != rewardsDistributor.abi.Events[event].ID {
		return nil, bind.ErrEventSignatureMismatch
	}
	out := new(RewardsDistributorUnpaused)
	if len(log.Data) > 0 {
		if err := rewardsDistributor.abi.UnpackIntoInterface(out, event, log.Data); err != nil {
			return nil, err
		}
	}
	var indexed abi.Arguments
	for _, arg := range rewardsDistributor.abi.Events[event].Inputs {
		if arg.Indexed {
			indexed = append(indexed, arg)
		}
	}
	if err := abi.ParseTopics(out, indexed, log.Topics[1:]); err != nil {
		return nil, err
	}
	out.Raw = log
	return out, nil
}

// UnpackError attempts to decode the provided error data using user-defined
// error definitions.
func (rewardsDistributor *RewardsDistributor) UnpackError(raw []byte) (any, error) {
	if bytes.Equal(raw[:4], rewardsDistributor.abi.Errors["BelowClaimed"].ID.Bytes()[:4]) {
		return rewardsDistributor.UnpackBelowClaimedError(raw[4:])
	}
	if bytes.Equal(raw[:4], rewardsDistributor.abi.Errors["ClaimsPaused"].ID.Bytes()[:4]) {
		return rewardsDistributor.UnpackClaimsPausedError(raw[4:])
	}
	if bytes.Equal(raw[:4], rewardsDistributor.abi.Errors["EpochBeforeSchedule"].ID.Bytes()[:4]) {
		return rewardsDistributor.UnpackEpochBeforeScheduleError(raw[4:])
	}
	if bytes.Equal(raw[:4], rewardsDistributor.abi.Errors["EpochNotIncreasing"].ID.Bytes()[:4]) {
		return rewardsDistributor.UnpackEpochNotIncreasingError(raw[4:])
	}
	if bytes.Equal(raw[:4], rewardsDistributor.abi.Errors["InvalidProof"].ID.Bytes()[:4]) {
		return rewardsDistributor.UnpackInvalidProofError(raw[4:])
	}
	if bytes.Equal(raw[:4], rewardsDistributor.abi.Errors["LengthMismatch"].ID.Bytes()[:4]) {
		return rewardsDistributor.UnpackLengthMismatchError(raw[4:])
	}
	if bytes.Equal(raw[:4], rewardsDistributor.abi.Errors["NoPendingRoot"].ID.Bytes()[:4]) {
		return rewardsDistributor.UnpackNoPendingRootError(raw[4:])
	}
	if bytes.Equal(raw[:4], rewardsDistributor.abi.Errors["NotGuardian"].ID.Bytes()[:4]) {
		return rewardsDistributor.UnpackNotGuardianError(raw[4:])
	}
	if bytes.Equal(raw[:4], rewardsDistributor.abi.Errors["NotPoster"].ID.Bytes()[:4]) {
		return rewardsDistributor.UnpackNotPosterError(raw[4:])
	}
	if bytes.Equal(raw[:4], rewardsDistributor.abi.Errors["NothingToClaim"].ID.Bytes()[:4]) {
		return rewardsDistributor.UnpackNothingToClaimError(raw[4:])
	}
	if bytes.Equal(raw[:4], rewardsDistributor.abi.Errors["OverEmissionCap"].ID.Bytes()[:4]) {
		return rewardsDistributor.UnpackOverEmissionCapError(raw[4:])
	}
	if bytes.Equal(raw[:4], rewardsDistributor.abi.Errors["PendingRootNotActive"].ID.Bytes()[:4]) {
		return rewardsDistributor.UnpackPendingRootNotActiveError(raw[4:])
	}
	if bytes.Equal(raw[:4], rewardsDistributor.abi.Errors["SafeERC20FailedOperation"].ID.Bytes()[:4]) {
		return rewardsDistributor.UnpackSafeERC20FailedOperationError(raw[4:])
	}
	if bytes.Equal(raw[:4], rewardsDistributor.abi.Errors["ZeroRoot"].ID.Bytes()[:4]) {
		return rewardsDistributor.UnpackZeroRootError(raw[4:])
	}
	return nil, errors.New("Unknown error")
}

// RewardsDistributorBelowClaimed represents a BelowClaimed error raised by the RewardsDistributor contract.
type RewardsDistributorBelowClaimed struct {
	Total   *big.Int
	Claimed *big.Int
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error BelowClaimed(uint256 total, uint256 claimed)
func RewardsDistributorBelowClaimedErrorID() common.Hash {
	return common.HexToHash("0xe16b098e512c9b1a86c7df89d8caeb3d656d54a9068ad472dff3fbf52dcca9e9")
}

// UnpackBelowClaimedError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error BelowClaimed(uint256 total, uint256 claimed)
func (rewardsDistributor *RewardsDistributor) UnpackBelowClaimedError(raw []byte) (*RewardsDistributorBelowClaimed, error) {
	out := new(RewardsDistributorBelowClaimed)
	if err := rewardsDistributor.abi.UnpackIntoInterface(out, "BelowClaimed", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// RewardsDistributorClaimsPaused represents a ClaimsPaused error raised by the RewardsDistributor contract.
type RewardsDistributorClaimsPaused struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error ClaimsPaused()
func RewardsDistributorClaimsPausedErrorID() common.Hash {
	return common.HexToHash("0x7cdf17ad9ee98efb9f1c7c037e6d670fdaa3f0ea4d4b016e4707fa1827a79e43")
}

// UnpackClaimsPausedError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error ClaimsPaused()
func (rewardsDistributor *RewardsDistributor) UnpackClaimsPausedError(raw []byte) (*RewardsDistributorClaimsPaused, error) {
	out := new(RewardsDistributorClaimsPaused)
	if err := rewardsDistributor.abi.UnpackIntoInterface(out, "ClaimsPaused", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// RewardsDistributorEpochBeforeSchedule represents a EpochBeforeSchedule error raised by the RewardsDistributor contract.
type RewardsDistributorEpochBeforeSchedule struct {
	FirstEpoch uint64
	Proposed   uint64
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error EpochBeforeSchedule(uint64 firstEpoch, uint64 proposed)
func RewardsDistributorEpochBeforeScheduleErrorID() common.Hash {
	return common.HexToHash("0x5856a3a926688463ee4be6dd7a680b96a222a6634212cbcc6435406b35c2c6cd")
}

// UnpackEpochBeforeScheduleError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error EpochBeforeSchedule(uint64 firstEpoch, uint64 proposed)
func (rewardsDistributor *RewardsDistributor) UnpackEpochBeforeScheduleError(raw []byte) (*RewardsDistributorEpochBeforeSchedule, error) {
	out := new(RewardsDistributorEpochBeforeSchedule)
	if err := rewardsDistributor.abi.UnpackIntoInterface(out, "EpochBeforeSchedule", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// RewardsDistributorEpochNotIncreasing represents a EpochNotIncreasing error raised by the RewardsDistributor contract.
type RewardsDistributorEpochNotIncreasing struct {
	Latest   uint64
	Proposed uint64
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error EpochNotIncreasing(uint64 latest, uint64 proposed)
func RewardsDistributorEpochNotIncreasingErrorID() common.Hash {
	return common.HexToHash("0x98152d8233bcb91f4199bb11b4e8c0b18a39ebb27ceb0bb22a91d8e1f3d7b3ef")
}

// UnpackEpochNotIncreasingError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error EpochNotIncreasing(uint64 latest, uint64 proposed)
func (rewardsDistributor *RewardsDistributor) UnpackEpochNotIncreasingError(raw []byte) (*RewardsDistributorEpochNotIncreasing, error) {
	out := new(RewardsDistributorEpochNotIncreasing)
	if err := rewardsDistributor.abi.UnpackIntoInterface(out, "EpochNotIncreasing", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// RewardsDistributorInvalidProof represents a InvalidProof error raised by the RewardsDistributor contract.
type RewardsDistributorInvalidProof struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error InvalidProof()
func RewardsDistributorInvalidProofErrorID() common.Hash {
	return common.HexToHash("0x09bde339c6b182be216ee7ef8ccff6338c6ef7993445216112ae575c5438fd27")
}

// UnpackInvalidProofError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error InvalidProof()
func (rewardsDistributor *RewardsDistributor) UnpackInvalidProofError(raw []byte) (*RewardsDistributorInvalidProof, error) {
	out := new(RewardsDistributorInvalidProof)
	if err := rewardsDistributor.abi.UnpackIntoInterface(out, "InvalidProof", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// RewardsDistributorLengthMismatch represents a LengthMismatch error raised by the RewardsDistributor contract.
type RewardsDistributorLengthMismatch struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error LengthMismatch()
func RewardsDistributorLengthMismatchErrorID() common.Hash {
	return common.HexToHash("0xff633a3803c58b9bc21e58efecee59f27e033cc0b1883fccb4969c76146fe60f")
}

// UnpackLengthMismatchError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error LengthMismatch()
func (rewardsDistributor *RewardsDistributor) UnpackLengthMismatchError(raw []byte) (*RewardsDistributorLengthMismatch, error) {
	out := new(RewardsDistributorLengthMismatch)
	if err := rewardsDistributor.abi.UnpackIntoInterface(out, "LengthMismatch", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// RewardsDistributorNoPendingRoot represents a NoPendingRoot error raised by the RewardsDistributor contract.
type RewardsDistributorNoPendingRoot struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error NoPendingRoot()
func RewardsDistributorNoPendingRootErrorID() common.Hash {
	return common.HexToHash("0x2a01895ee863735ea8533479c7609527402e57aaebaef575f9a1b9cb21c4beee")
}

// UnpackNoPendingRootError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error NoPendingRoot()
func (rewardsDistributor *RewardsDistributor) UnpackNoPendingRootError(raw []byte) (*RewardsDistributorNoPendingRoot, error) {
	out := new(RewardsDistributorNoPendingRoot)
	if err := rewardsDistributor.abi.UnpackIntoInterface(out, "NoPendingRoot", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// RewardsDistributorNotGuardian represents a NotGuardian error raised by the RewardsDistributor contract.
type RewardsDistributorNotGuardian struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error NotGuardian()
func RewardsDistributorNotGuardianErrorID() common.Hash {
	return common.HexToHash("0xef6d0f022a6034a270a71b2c18c08f672aa285210fc713e02118a224aabfd50b")
}

// UnpackNotGuardianError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error NotGuardian()
func (rewardsDistributor *RewardsDistributor) UnpackNotGuardianError(raw []byte) (*RewardsDistributorNotGuardian, error) {
	out := new(RewardsDistributorNotGuardian)
	if err := rewardsDistributor.abi.UnpackIntoInterface(out, "NotGuardian", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// RewardsDistributorNotPoster represents a NotPoster error raised by the RewardsDistributor contract.
type RewardsDistributorNotPoster struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error NotPoster()
func RewardsDistributorNotPosterErrorID() common.Hash {
	return common.HexToHash("0x1dba048e070fba0b7b809355e1a351c644892badad4d048a2578b4bdd03dae3c")
}

// UnpackNotPosterError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error NotPoster()
func (rewardsDistributor *RewardsDistributor) UnpackNotPosterError(raw []byte) (*RewardsDistributorNotPoster, error) {
	out := new(RewardsDistributorNotPoster)
	if err := rewardsDistributor.abi.UnpackIntoInterface(out, "NotPoster", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// RewardsDistributorNothingToClaim represents a NothingToClaim error raised by the RewardsDistributor contract.
type RewardsDistributorNothingToClaim struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error NothingToClaim()
func RewardsDistributorNothingToClaimErrorID() common.Hash {
	return common.HexToHash("0x969bf7288f744225521096ebffff657851af77dd4c63700d76b8d1cf6481d1f1")
}

// UnpackNothingToClaimError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error NothingToClaim()
func (rewardsDistributor *RewardsDistributor) UnpackNothingToClaimError(raw []byte) (*RewardsDistributorNothingToClaim, error) {
	out := new(RewardsDistributorNothingToClaim)
	if err := rewardsDistributor.abi.UnpackIntoInterface(out, "NothingToClaim", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// RewardsDistributorOverEmissionCap represents a OverEmissionCap error raised by the RewardsDistributor contract.
type RewardsDistributorOverEmissionCap struct {
	Total *big.Int
	Cap   *big.Int
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error OverEmissionCap(uint256 total, uint256 cap)
func RewardsDistributorOverEmissionCapErrorID() common.Hash {
	return common.HexToHash("0x7073e9ee1bd87ef334dfcd0fdb29810cbefe63ade8ef44f48eee50f8c5d7099b")
}

// UnpackOverEmissionCapError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error OverEmissionCap(uint256 total, uint256 cap)
func (rewardsDistributor *RewardsDistributor) UnpackOverEmissionCapError(raw []byte) (*RewardsDistributorOverEmissionCap, error) {
	out := new(RewardsDistributorOverEmissionCap)
	if err := rewardsDistributor.abi.UnpackIntoInterface(out, "OverEmissionCap", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// RewardsDistributorPendingRootNotActive represents a PendingRootNotActive error raised by the RewardsDistributor contract.
type RewardsDistributorPendingRootNotActive struct {
	ActivatesAt uint64
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error PendingRootNotActive(uint64 activatesAt)
func RewardsDistributorPendingRootNotActiveErrorID() common.Hash {
	return common.HexToHash("0x6e11b18c898ce21b92d34103a306529f0a7d19788b96748ab5f6026f42d8ce9f")
}

// UnpackPendingRootNotActiveError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error PendingRootNotActive(uint64 activatesAt)
func (rewardsDistributor *RewardsDistributor) UnpackPendingRootNotActiveError(raw []byte) (*RewardsDistributorPendingRootNotActive, error) {
	out := new(RewardsDistributorPendingRootNotActive)
	if err := rewardsDistributor.abi.UnpackIntoInterface(out, "PendingRootNotActive", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// RewardsDistributorSafeERC20FailedOperation represents a SafeERC20FailedOperation error raised by the RewardsDistributor contract.
type RewardsDistributorSafeERC20FailedOperation struct {
	Token common.Address
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error SafeERC20FailedOperation(address token)
func RewardsDistributorSafeERC20FailedOperationErrorID() common.Hash {
	return common.HexToHash("0x5274afe73c98b4749fc91ffae6b7b574e7842cb2144a159e9377a5f20b32edf9")
}

// UnpackSafeERC20FailedOperationError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error SafeERC20FailedOperation(address token)
func (rewardsDistributor *RewardsDistributor) UnpackSafeERC20FailedOperationError(raw []byte) (*RewardsDistributorSafeERC20FailedOperation, error) {
	out := new(RewardsDistributorSafeERC20FailedOperation)
	if err := rewardsDistributor.abi.UnpackIntoInterface(out, "SafeERC20FailedOperation", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// RewardsDistributorZeroRoot represents a ZeroRoot error raised by the RewardsDistributor contract.
type RewardsDistributorZeroRoot struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error ZeroRoot()
func RewardsDistributorZeroRootErrorID() common.Hash {
	return common.HexToHash("0xb263ae738e814ca9af6ee56bb85daa47624e790421913c947dcba2aac07cfdbd")
}

// UnpackZeroRootError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error ZeroRoot()
func (rewardsDistributor *RewardsDistributor) UnpackZeroRootError(raw []byte) (*RewardsDistributorZeroRoot, error) {
	out := new(RewardsDistributorZeroRoot)
	if err := rewardsDistributor.abi.UnpackIntoInterface(out, "ZeroRoot", raw); err != nil {
		return nil, err
	}
	return out, nil
}
