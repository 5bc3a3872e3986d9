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
	ABI: "[{\"inputs\":[{\"internalType\":\"contractIERC20\",\"name\":\"token_\",\"type\":\"address\"},{\"internalType\":\"address\",\"name\":\"poster_\",\"type\":\"address\"}],\"stateMutability\":\"nonpayable\",\"type\":\"constructor\"},{\"inputs\":[{\"internalType\":\"uint64\",\"name\":\"current\",\"type\":\"uint64\"},{\"internalType\":\"uint64\",\"name\":\"proposed\",\"type\":\"uint64\"}],\"name\":\"EpochNotIncreasing\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"InvalidProof\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"NotPoster\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"NothingToClaim\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"token\",\"type\":\"address\"}],\"name\":\"SafeERC20FailedOperation\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"ZeroRoot\",\"type\":\"error\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"address\",\"name\":\"account\",\"type\":\"address\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"amount\",\"type\":\"uint256\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"cumulativeAmount\",\"type\":\"uint256\"}],\"name\":\"Claimed\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"uint64\",\"name\":\"epoch\",\"type\":\"uint64\"},{\"indexed\":false,\"internalType\":\"bytes32\",\"name\":\"root\",\"type\":\"bytes32\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"total\",\"type\":\"uint256\"}],\"name\":\"RootPosted\",\"type\":\"event\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"account\",\"type\":\"address\"},{\"internalType\":\"uint256\",\"name\":\"cumulativeAmount\",\"type\":\"uint256\"},{\"internalType\":\"bytes32[]\",\"name\":\"proof\",\"type\":\"bytes32[]\"}],\"name\":\"claim\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"account\",\"type\":\"address\"}],\"name\":\"claimed\",\"outputs\":[{\"internalType\":\"uint256\",\"name\":\"\",\"type\":\"uint256\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"epoch\",\"outputs\":[{\"internalType\":\"uint64\",\"name\":\"\",\"type\":\"uint64\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"uint64\",\"name\":\"epoch_\",\"type\":\"uint64\"},{\"internalType\":\"bytes32\",\"name\":\"root_\",\"type\":\"bytes32\"},{\"internalType\":\"uint256\",\"name\":\"total_\",\"type\":\"uint256\"}],\"name\":\"postRoot\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"poster\",\"outputs\":[{\"internalType\":\"address\",\"name\":\"\",\"type\":\"address\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"root\",\"outputs\":[{\"internalType\":\"bytes32\",\"name\":\"\",\"type\":\"bytes32\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"token\",\"outputs\":[{\"internalType\":\"contractIERC20\",\"name\":\"\",\"type\":\"address\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"total\",\"outputs\":[{\"internalType\":\"uint256\",\"name\":\"\",\"type\":\"uint256\"}],\"stateMutability\":\"view\",\"type\":\"function\"}]",
	ID:  "RewardsDistributor",
	Bin: "0x60c060405234801561000f575f5ffd5b5060405161092e38038061092e83398101604081905261002e9161005c565b6001600160a01b039182166080521660a052610094565b6001600160a01b0381168114610059575f5ffd5b50565b5f5f6040838503121561006d575f5ffd5b825161007881610045565b602084015190925061008981610045565b809150509250929050565b60805160a05161086c6100c25f395f818160bf015261039a01525f81816101720152610352015261086c5ff3fe608060405234801561000f575f5ffd5b5060043610610085575f3560e01c8063c884ef8311610058578063c884ef8314610133578063e17e13f214610152578063ebf0c71714610165578063fc0c546a1461016d575f5ffd5b80632ddbd13a146100895780633d13f874146100a557806380959721146100ba578063900cf0cf14610106575b5f5ffd5b61009260025481565b6040519081526020015b60405180910390f35b6100b86100b33660046106f4565b610194565b005b6100e17f000000000000000000000000000000000000000000000000000000000000000081565b60405173ffffffffffffffffffffffffffffffffffffffff909116815260200161009c565b60015461011a9067ffffffffffffffff1681565b60405167ffffffffffffffff909116815260200161009c565b61009261014136600461077a565b60036020525f908152604090205481565b6100b8610160366004610793565b610382565b6100925f5481565b6100e17f000000000000000000000000000000000000000000000000000000000000000081565b6040805173ffffffffffffffffffffffffffffffffffffffff861660208201529081018490525f90606001604080517fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe08184030181528282528051602091820120908301520160405160208183030381529060405280519060200120905061021f83835f548461050c565b610255576040517f09bde33900000000000000000000000000000000000000000000000000000000815260040160405180910390fd5b73ffffffffffffffffffffffffffffffffffffffff85165f908152600360205260409020548085116102b3576040517f969bf72800000000000000000000000000000000000000000000000000000000815260040160405180910390fd5b73ffffffffffffffffffffffffffffffffffffffff86165f9081526003602052604081208690556102e482876107d1565b604080518281526020810189905291925073ffffffffffffffffffffffffffffffffffffffff8916917f987d620f307ff6b94d58743cb7a7509f24071586a77759b77c2d4e29f75a2f9a910160405180910390a261037973ffffffffffffffffffffffffffffffffffffffff7f0000000000000000000000000000000000000000000000000000000000000000168883610523565b50505050505050565b3373ffffffffffffffffffffffffffffffffffffffff7f000000000000000000000000000000000000000000000000000000000000000016146103f1576040517f1dba048e00000000000000000000000000000000000000000000000000000000815260040160405180910390fd5b81610428576040517fb263ae7300000000000000000000000000000000000000000000000000000000815260040160405180910390fd5b60015467ffffffffffffffff9081169084161161048e576001546040517f98152d8200000000000000000000000000000000000000000000000000000000815267ffffffffffffffff918216600482015290841660248201526044015b60405180910390fd5b5f829055600180547fffffffffffffffffffffffffffffffffffffffffffffffff00000000000000001667ffffffffffffffff8516908117909155600282905560408051848152602081018490527f1cea392bfc3b2a6354298c520a779ed4cd01b7eb00427c5494a50e3c0c6774d4910160405180910390a2505050565b5f826105198686856105b5565b1495945050505050565b6040805173ffffffffffffffffffffffffffffffffffffffff8416602482015260448082018490528251808303909101815260649091019091526020810180517bffffffffffffffffffffffffffffffffffffffffffffffffffffffff167fa9059cbb000000000000000000000000000000000000000000000000000000001790526105b09084906105f6565b505050565b5f81815b848110156105ed576105e3828787848181106105d7576105d7610809565b9050602002013561069b565b91506001016105b9565b50949350505050565b5f5f60205f8451602086015f885af180610615576040513d5f823e3d81fd5b50505f513d9150811561062c578060011415610646565b73ffffffffffffffffffffffffffffffffffffffff84163b155b15610695576040517f5274afe700000000000000000000000000000000000000000000000000000000815273ffffffffffffffffffffffffffffffffffffffff85166004820152602401610485565b50505050565b5f8183106106b5575f8281526020849052604090206106c3565b5f8381526020839052604090205b90505b92915050565b803573ffffffffffffffffffffffffffffffffffffffff811681146106ef575f5ffd5b919050565b5f5f5f5f60608587031215610707575f5ffd5b610710856106cc565b935060208501359250604085013567ffffffffffffffff811115610732575f5ffd5b8501601f81018713610742575f5ffd5b803567ffffffffffffffff811115610758575f5ffd5b8760208260051b840101111561076c575f5ffd5b949793965060200194505050565b5f6020828403121561078a575f5ffd5b6106c3826106cc565b5f5f5f606084860312156107a5575f5ffd5b833567ffffffffffffffff811681146107bc575f5ffd5b95602085013595506040909401359392505050565b818103818111156106c6577f4e487b71000000000000000000000000000000000000000000000000000000005f52601160045260245ffd5b7f4e487b71000000000000000000000000000000000000000000000000000000005f52603260045260245ffdfea2646970667358221220ba38dcdb8d9e07e6874a858e82fcf8c28c1b84f79fb310687427a420c885290964736f6c634300081c0033",
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
// Solidity: constructor(address token_, address poster_) returns()
func (rewardsDistributor *RewardsDistributor) PackConstructor(token_ common.Address, poster_ common.Address) []byte {
	enc, err := rewardsDistributor.abi.Pack("", token_, poster_)
	if err != nil {
		panic(err)
	}
	return enc
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

// PackPostRoot is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xe17e13f2.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function postRoot(uint64 epoch_, bytes32 root_, uint256 total_) returns()
func (rewardsDistributor *RewardsDistributor) PackPostRoot(epoch uint64, root [32]byte, total *big.Int) []byte {
	enc, err := rewardsDistributor.abi.Pack("postRoot", epoch, root, total)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackPostRoot is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xe17e13f2.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function postRoot(uint64 epoch_, bytes32 root_, uint256 total_) returns()
func (rewardsDistributor *RewardsDistributor) TryPackPostRoot(epoch uint64, root [32]byte, total *big.Int) ([]byte, error) {
	return rewardsDistributor.abi.Pack("postRoot", epoch, root, total)
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

// RewardsDistributorRootPosted represents a RootPosted event raised by the RewardsDistributor contract.
type RewardsDistributorRootPosted struct {
	Epoch uint64
	Root  [32]byte
	Total *big.Int
	Raw   *types.Log // Blockchain specific contextual infos
}

const RewardsDistributorRootPostedEventName = "RootPosted"

// ContractEventName returns the user-defined event name.
func (RewardsDistributorRootPosted) ContractEventName() string {
	return RewardsDistributorRootPostedEventName
}

// UnpackRootPostedEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event RootPosted(uint64 indexed epoch, bytes32 root, uint256 total)
func (rewardsDistributor *RewardsDistributor) UnpackRootPostedEvent(log *types.Log) (*RewardsDistributorRootPosted, error) {
	event := "RootPosted"
	if len(log.Topics) == 0 {
		return nil, bind.ErrNoEventSignature
	}
	if log.Topics[0] != rewardsDistributor.abi.Events[event].ID {
		return nil, bind.ErrEventSignatureMismatch
	}
	out := new(RewardsDistributorRootPosted)
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
	if bytes.Equal(raw[:4], rewardsDistributor.abi.Errors["EpochNotIncreasing"].ID.Bytes()[:4]) {
		return rewardsDistributor.UnpackEpochNotIncreasingError(raw[4:])
	}
	if bytes.Equal(raw[:4], rewardsDistributor.abi.Errors["InvalidProof"].ID.Bytes()[:4]) {
		return rewardsDistributor.UnpackInvalidProofError(raw[4:])
	}
	if bytes.Equal(raw[:4], rewardsDistributor.abi.Errors["NotPoster"].ID.Bytes()[:4]) {
		return rewardsDistributor.UnpackNotPosterError(raw[4:])
	}
	if bytes.Equal(raw[:4], rewardsDistributor.abi.Errors["NothingToClaim"].ID.Bytes()[:4]) {
		return rewardsDistributor.UnpackNothingToClaimError(raw[4:])
	}
	if bytes.Equal(raw[:4], rewardsDistributor.abi.Errors["SafeERC20FailedOperation"].ID.Bytes()[:4]) {
		return rewardsDistributor.UnpackSafeERC20FailedOperationError(raw[4:])
	}
	if bytes.Equal(raw[:4], rewardsDistributor.abi.Errors["ZeroRoot"].ID.Bytes()[:4]) {
		return rewardsDistributor.UnpackZeroRootError(raw[4:])
	}
	return nil, errors.New("Unknown error")
}

// RewardsDistributorEpochNotIncreasing represents a EpochNotIncreasing error raised by the RewardsDistributor contract.
type RewardsDistributorEpochNotIncreasing struct {
	Current  uint64
	Proposed uint64
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error EpochNotIncreasing(uint64 current, uint64 proposed)
func RewardsDistributorEpochNotIncreasingErrorID() common.Hash {
	return common.HexToHash("0x98152d8233bcb91f4199bb11b4e8c0b18a39ebb27ceb0bb22a91d8e1f3d7b3ef")
}

// UnpackEpochNotIncreasingError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error EpochNotIncreasing(uint64 current, uint64 proposed)
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
