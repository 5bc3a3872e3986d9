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

// RewardsDistributorVote is an auto generated low-level Go binding around an user-defined struct.
type RewardsDistributorVote struct {
	Epoch    uint64
	Root     [32]byte
	Total    *big.Int
	PrevRoot [32]byte
	Inputs   [32]byte
	Rules    uint32
	Round    uint64
}

// RewardsDistributorMetaData contains all meta data concerning the RewardsDistributor contract.
var RewardsDistributorMetaData = bind.MetaData{
	ABI: "[{\"inputs\":[{\"internalType\":\"contractIERC20\",\"name\":\"token_\",\"type\":\"address\"},{\"internalType\":\"address[]\",\"name\":\"signers_\",\"type\":\"address[]\"},{\"internalType\":\"uint8\",\"name\":\"threshold_\",\"type\":\"uint8\"},{\"internalType\":\"address\",\"name\":\"guardian_\",\"type\":\"address\"},{\"internalType\":\"uint64\",\"name\":\"timelock_\",\"type\":\"uint64\"},{\"internalType\":\"uint256\",\"name\":\"emissionPerEpoch_\",\"type\":\"uint256\"},{\"internalType\":\"uint64\",\"name\":\"firstEpoch_\",\"type\":\"uint64\"}],\"stateMutability\":\"nonpayable\",\"type\":\"constructor\"},{\"inputs\":[{\"internalType\":\"uint256\",\"name\":\"index\",\"type\":\"uint256\"}],\"name\":\"BadSignature\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"BadSignerSet\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint256\",\"name\":\"total\",\"type\":\"uint256\"},{\"internalType\":\"uint256\",\"name\":\"claimed\",\"type\":\"uint256\"}],\"name\":\"BelowClaimed\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"ClaimsPaused\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint64\",\"name\":\"firstEpoch\",\"type\":\"uint64\"},{\"internalType\":\"uint64\",\"name\":\"proposed\",\"type\":\"uint64\"}],\"name\":\"EpochBeforeSchedule\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint64\",\"name\":\"latest\",\"type\":\"uint64\"},{\"internalType\":\"uint64\",\"name\":\"proposed\",\"type\":\"uint64\"}],\"name\":\"EpochNotIncreasing\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"InvalidProof\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"LengthMismatch\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"NoPendingRoot\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"NotGuardian\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"signer\",\"type\":\"address\"}],\"name\":\"NotSigner\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"NothingToClaim\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint256\",\"name\":\"total\",\"type\":\"uint256\"},{\"internalType\":\"uint256\",\"name\":\"cap\",\"type\":\"uint256\"}],\"name\":\"OverEmissionCap\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint64\",\"name\":\"activatesAt\",\"type\":\"uint64\"}],\"name\":\"PendingRootNotActive\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"token\",\"type\":\"address\"}],\"name\":\"SafeERC20FailedOperation\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint256\",\"name\":\"index\",\"type\":\"uint256\"}],\"name\":\"SignersNotAscending\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint256\",\"name\":\"valid\",\"type\":\"uint256\"},{\"internalType\":\"uint8\",\"name\":\"threshold\",\"type\":\"uint8\"}],\"name\":\"TooFewSignatures\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"bytes32\",\"name\":\"root\",\"type\":\"bytes32\"},{\"internalType\":\"bytes32\",\"name\":\"voted\",\"type\":\"bytes32\"}],\"name\":\"WrongPrevRoot\",\"type\":\"error\"},{\"inputs\":[{\"internalType\":\"uint64\",\"name\":\"round\",\"type\":\"uint64\"},{\"internalType\":\"uint64\",\"name\":\"voted\",\"type\":\"uint64\"}],\"name\":\"WrongRound\",\"type\":\"error\"},{\"inputs\":[],\"name\":\"ZeroRoot\",\"type\":\"error\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"address\",\"name\":\"account\",\"type\":\"address\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"amount\",\"type\":\"uint256\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"cumulativeAmount\",\"type\":\"uint256\"}],\"name\":\"Claimed\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":false,\"internalType\":\"address\",\"name\":\"guardian\",\"type\":\"address\"}],\"name\":\"Paused\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"uint64\",\"name\":\"epoch\",\"type\":\"uint64\"},{\"indexed\":false,\"internalType\":\"bytes32\",\"name\":\"root\",\"type\":\"bytes32\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"total\",\"type\":\"uint256\"}],\"name\":\"RootActivated\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"uint64\",\"name\":\"epoch\",\"type\":\"uint64\"},{\"indexed\":false,\"internalType\":\"bytes32\",\"name\":\"root\",\"type\":\"bytes32\"},{\"indexed\":false,\"internalType\":\"uint256\",\"name\":\"total\",\"type\":\"uint256\"},{\"indexed\":false,\"internalType\":\"uint64\",\"name\":\"activatesAt\",\"type\":\"uint64\"}],\"name\":\"RootProposed\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"uint64\",\"name\":\"epoch\",\"type\":\"uint64\"},{\"indexed\":false,\"internalType\":\"bytes32\",\"name\":\"root\",\"type\":\"bytes32\"}],\"name\":\"RootRevoked\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":true,\"internalType\":\"uint64\",\"name\":\"epoch\",\"type\":\"uint64\"},{\"indexed\":false,\"internalType\":\"bytes32\",\"name\":\"prevRoot\",\"type\":\"bytes32\"},{\"indexed\":false,\"internalType\":\"bytes32\",\"name\":\"inputs\",\"type\":\"bytes32\"},{\"indexed\":false,\"internalType\":\"uint32\",\"name\":\"rules\",\"type\":\"uint32\"},{\"indexed\":false,\"internalType\":\"uint64\",\"name\":\"round\",\"type\":\"uint64\"},{\"indexed\":false,\"internalType\":\"uint32\",\"name\":\"signedBy\",\"type\":\"uint32\"}],\"name\":\"RootSigned\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":false,\"internalType\":\"uint64\",\"name\":\"round\",\"type\":\"uint64\"},{\"indexed\":false,\"internalType\":\"address[]\",\"name\":\"signers\",\"type\":\"address[]\"},{\"indexed\":false,\"internalType\":\"uint8\",\"name\":\"threshold\",\"type\":\"uint8\"}],\"name\":\"SignersChanged\",\"type\":\"event\"},{\"anonymous\":false,\"inputs\":[{\"indexed\":false,\"internalType\":\"address\",\"name\":\"guardian\",\"type\":\"address\"}],\"name\":\"Unpaused\",\"type\":\"event\"},{\"inputs\":[],\"name\":\"MAX_SIGNERS\",\"outputs\":[{\"internalType\":\"uint256\",\"name\":\"\",\"type\":\"uint256\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"SIGNER_SET_TYPEHASH\",\"outputs\":[{\"internalType\":\"bytes32\",\"name\":\"\",\"type\":\"bytes32\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"VOTE_TYPEHASH\",\"outputs\":[{\"internalType\":\"bytes32\",\"name\":\"\",\"type\":\"bytes32\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"activateRoot\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"account\",\"type\":\"address\"},{\"internalType\":\"uint256\",\"name\":\"cumulativeAmount\",\"type\":\"uint256\"},{\"internalType\":\"bytes32[]\",\"name\":\"proof\",\"type\":\"bytes32[]\"}],\"name\":\"claim\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address[]\",\"name\":\"accounts\",\"type\":\"address[]\"},{\"internalType\":\"uint256[]\",\"name\":\"cumulativeAmounts\",\"type\":\"uint256[]\"},{\"internalType\":\"bytes32[][]\",\"name\":\"proofs\",\"type\":\"bytes32[][]\"}],\"name\":\"claimMany\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"account\",\"type\":\"address\"}],\"name\":\"claimed\",\"outputs\":[{\"internalType\":\"uint256\",\"name\":\"\",\"type\":\"uint256\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"domainSeparator\",\"outputs\":[{\"internalType\":\"bytes32\",\"name\":\"\",\"type\":\"bytes32\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"uint64\",\"name\":\"epoch_\",\"type\":\"uint64\"}],\"name\":\"emissionCap\",\"outputs\":[{\"internalType\":\"uint256\",\"name\":\"\",\"type\":\"uint256\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"emissionPerEpoch\",\"outputs\":[{\"internalType\":\"uint256\",\"name\":\"\",\"type\":\"uint256\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"epoch\",\"outputs\":[{\"internalType\":\"uint64\",\"name\":\"\",\"type\":\"uint64\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"firstEpoch\",\"outputs\":[{\"internalType\":\"uint64\",\"name\":\"\",\"type\":\"uint64\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"guardian\",\"outputs\":[{\"internalType\":\"address\",\"name\":\"\",\"type\":\"address\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"pause\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"paused\",\"outputs\":[{\"internalType\":\"bool\",\"name\":\"\",\"type\":\"bool\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"pendingActivatesAt\",\"outputs\":[{\"internalType\":\"uint64\",\"name\":\"\",\"type\":\"uint64\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"pendingEpoch\",\"outputs\":[{\"internalType\":\"uint64\",\"name\":\"\",\"type\":\"uint64\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"pendingRoot\",\"outputs\":[{\"internalType\":\"bytes32\",\"name\":\"\",\"type\":\"bytes32\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"pendingTotal\",\"outputs\":[{\"internalType\":\"uint256\",\"name\":\"\",\"type\":\"uint256\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"components\":[{\"internalType\":\"uint64\",\"name\":\"epoch\",\"type\":\"uint64\"},{\"internalType\":\"bytes32\",\"name\":\"root\",\"type\":\"bytes32\"},{\"internalType\":\"uint256\",\"name\":\"total\",\"type\":\"uint256\"},{\"internalType\":\"bytes32\",\"name\":\"prevRoot\",\"type\":\"bytes32\"},{\"internalType\":\"bytes32\",\"name\":\"inputs\",\"type\":\"bytes32\"},{\"internalType\":\"uint32\",\"name\":\"rules\",\"type\":\"uint32\"},{\"internalType\":\"uint64\",\"name\":\"round\",\"type\":\"uint64\"}],\"internalType\":\"structRewardsDistributor.Vote\",\"name\":\"vote\",\"type\":\"tuple\"},{\"internalType\":\"bytes[]\",\"name\":\"signatures\",\"type\":\"bytes[]\"}],\"name\":\"proposeRoot\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"revokePendingRoot\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"root\",\"outputs\":[{\"internalType\":\"bytes32\",\"name\":\"\",\"type\":\"bytes32\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"round\",\"outputs\":[{\"internalType\":\"uint64\",\"name\":\"\",\"type\":\"uint64\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address\",\"name\":\"signer\",\"type\":\"address\"}],\"name\":\"signerIndex\",\"outputs\":[{\"internalType\":\"uint256\",\"name\":\"\",\"type\":\"uint256\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address[]\",\"name\":\"signers_\",\"type\":\"address[]\"},{\"internalType\":\"uint8\",\"name\":\"threshold_\",\"type\":\"uint8\"}],\"name\":\"signerSetDigest\",\"outputs\":[{\"internalType\":\"bytes32\",\"name\":\"\",\"type\":\"bytes32\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"signers\",\"outputs\":[{\"internalType\":\"address[]\",\"name\":\"\",\"type\":\"address[]\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"threshold\",\"outputs\":[{\"internalType\":\"uint8\",\"name\":\"\",\"type\":\"uint8\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"timelock\",\"outputs\":[{\"internalType\":\"uint64\",\"name\":\"\",\"type\":\"uint64\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"token\",\"outputs\":[{\"internalType\":\"contractIERC20\",\"name\":\"\",\"type\":\"address\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"total\",\"outputs\":[{\"internalType\":\"uint256\",\"name\":\"\",\"type\":\"uint256\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"totalClaimed\",\"outputs\":[{\"internalType\":\"uint256\",\"name\":\"\",\"type\":\"uint256\"}],\"stateMutability\":\"view\",\"type\":\"function\"},{\"inputs\":[],\"name\":\"unpause\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"internalType\":\"address[]\",\"name\":\"signers_\",\"type\":\"address[]\"},{\"internalType\":\"uint8\",\"name\":\"threshold_\",\"type\":\"uint8\"},{\"internalType\":\"bytes[]\",\"name\":\"signatures\",\"type\":\"bytes[]\"}],\"name\":\"updateSigners\",\"outputs\":[],\"stateMutability\":\"nonpayable\",\"type\":\"function\"},{\"inputs\":[{\"components\":[{\"internalType\":\"uint64\",\"name\":\"epoch\",\"type\":\"uint64\"},{\"internalType\":\"bytes32\",\"name\":\"root\",\"type\":\"bytes32\"},{\"internalType\":\"uint256\",\"name\":\"total\",\"type\":\"uint256\"},{\"internalType\":\"bytes32\",\"name\":\"prevRoot\",\"type\":\"bytes32\"},{\"internalType\":\"bytes32\",\"name\":\"inputs\",\"type\":\"bytes32\"},{\"internalType\":\"uint32\",\"name\":\"rules\",\"type\":\"uint32\"},{\"internalType\":\"uint64\",\"name\":\"round\",\"type\":\"uint64\"}],\"internalType\":\"structRewardsDistributor.Vote\",\"name\":\"vote\",\"type\":\"tuple\"}],\"name\":\"voteDigest\",\"outputs\":[{\"internalType\":\"bytes32\",\"name\":\"\",\"type\":\"bytes32\"}],\"stateMutability\":\"view\",\"type\":\"function\"}]",
	ID:  "RewardsDistributor",
	Bin: "0x610120604052348015610010575f5ffd5b50604051612b5a380380612b5a83398101604081905261002f9161031f565b6001600160a01b0387166080526100468686610073565b6001600160a01b0390931660a0526001600160401b0391821660c05260e052166101005250610535915050565b81518015806100825750602081115b8061008f5750808260ff16115b806100a75750806100a460ff8416600261045c565b11155b156100c557604051630f82370960e21b815260040160405180910390fd5b5f805b8281101561018d57816001600160a01b03168582815181106100ec576100ec610479565b60200260200101516001600160a01b03161161011b57604051630f82370960e21b815260040160405180910390fd5b61012681600161048d565b60085f87848151811061013b5761013b610479565b60200260200101516001600160a01b03166001600160a01b031681526020019081526020015f208190555084818151811061017857610178610479565b602090810291909101015191506001016100c8565b5083516101a1906007906020870190610247565b506009805460ff191660ff85161780825561010090046001600160401b03169060016101cc836104a0565b91906101000a8154816001600160401b0302191690836001600160401b03160217905550507fa632d42becfd8d1acd4f59f46d02ea98b6fadd8fdf64a172b23214d84ce79d9c600960019054906101000a90046001600160401b03168585604051610239939291906104cb565b60405180910390a150505050565b828054828255905f5260205f2090810192821561029a579160200282015b8281111561029a57825182546001600160a01b0319166001600160a01b03909116178255602090920191600190910190610265565b506102a69291506102aa565b5090565b5b808211156102a6575f81556001016102ab565b6001600160a01b03811681146102d2575f5ffd5b50565b634e487b7160e01b5f52604160045260245ffd5b80516102f4816102be565b919050565b805160ff811681146102f4575f5ffd5b80516001600160401b03811681146102f4575f5ffd5b5f5f5f5f5f5f5f60e0888a031215610335575f5ffd5b8751610340816102be565b60208901519097506001600160401b0381111561035b575f5ffd5b8801601f81018a1361036b575f5ffd5b80516001600160401b03811115610384576103846102d5565b604051600582901b90603f8201601f191681016001600160401b03811182821017156103b2576103b26102d5565b60405291825260208184018101929081018d8411156103cf575f5ffd5b6020850194505b838510156103f5576103e7856102e9565b8152602094850194016103d6565b50985061040892505050604089016102f9565b9450610416606089016102e9565b935061042460808901610309565b60a0890151909350915061043a60c08901610309565b905092959891949750929550565b634e487b7160e01b5f52601160045260245ffd5b808202811582820484141761047357610473610448565b92915050565b634e487b7160e01b5f52603260045260245ffd5b8082018082111561047357610473610448565b5f6001600160401b0382166002600160401b031981016104c2576104c2610448565b60010192915050565b6001600160401b03841681526060602080830182905284519183018290525f91908501906080840190835b8181101561051d5783516001600160a01b03168352602093840193909201916001016104f6565b5050809250505060ff83166040830152949350505050565b60805160a05160c05160e0516101005161259b6105bf5f395f81816102b701528181610bbd01528181610c0301528181610e7e0152610ee901525f81816103980152610c4301525f81816104b801528181610fbe015261111201525f81816102fd0152818161069e015281816107d80152610a0901525f81816105d201526114cb015261259b5ff3fe608060405234801561000f575f5ffd5b506004361061021b575f3560e01c80638652297311610123578063c32dc936116100b8578063d561f72b11610088578063f552501a1161006e578063f552501a14610512578063f698da2514610526578063fc0c546a146105cd575f5ffd5b8063d561f72b146104e3578063ebf0c7171461050a575f5ffd5b8063c32dc93614610481578063c884ef8314610494578063d33219b4146104b3578063d54ad2a1146104da575f5ffd5b8063a26a6136116100f3578063a26a613614610434578063b15ce3c914610448578063b920fe711461045b578063bc4d54671461046e575f5ffd5b806386522973146103de578063865f86e014610405578063900cf0cf14610418578063979bc1d21461042c575f5ffd5b8063452a9320116101b35780635c975abb116101835780636ae402d8116101695780636ae402d8146103ba578063750588cf146103cd5780638456cb59146103d6575f5ffd5b80635c975abb146103695780636774d2f514610393575f5ffd5b8063452a9320146102f857806346f0975a146103445780634b3870531461035957806359ecd65714610361575f5ffd5b80633d13f874116101ee5780633d13f874146102955780633f4ba83a146102aa57806341682744146102b257806342cde4e8146102d9575f5ffd5b8063146ca5311461021f5780631a91a0ab146102565780632ddbd13a1461028357806336a1b5a01461028c575b5f5ffd5b60095461023890610100900467ffffffffffffffff1681565b60405167ffffffffffffffff90911681526020015b60405180910390f35b610275610264366004611eec565b60086020525f908152604090205481565b60405190815260200161024d565b61027560025481565b61027560055481565b6102a86102a3366004611f4d565b6105f4565b005b6102a8610686565b6102387f000000000000000000000000000000000000000000000000000000000000000081565b6009546102e69060ff1681565b60405160ff909116815260200161024d565b61031f7f000000000000000000000000000000000000000000000000000000000000000081565b60405173ffffffffffffffffffffffffffffffffffffffff909116815260200161024d565b61034c610753565b60405161024d9190611ff3565b6102a86107c0565b610275602081565b600954610383906901000000000000000000900460ff1681565b604051901515815260200161024d565b6102757f000000000000000000000000000000000000000000000000000000000000000081565b6102a86103c8366004612015565b61093b565b61027560035481565b6102a86109f1565b6102757f58d425e8be31d187ac17f5f82ac3d273a78711340f808d63dbc4194910d7695f81565b6102756104133660046120ac565b610ac4565b6001546102389067ffffffffffffffff1681565b6102a8610b1c565b6006546102389067ffffffffffffffff1681565b6102756104563660046120dd565b610bba565b6102a86104693660046120f6565b610c67565b6102a861047c366004612147565b611154565b61027561048f3660046121e6565b61126c565b6102756104a2366004611eec565b600a6020525f908152604090205481565b6102387f000000000000000000000000000000000000000000000000000000000000000081565b610275600b5481565b6102757fa6a15cec7eb67a328b32c22644adb11f6bd322e13036b0f850e1e6e18b74132c81565b6102755f5481565b6004546102389067ffffffffffffffff1681565b610275604080517f8b73c3c69bb8fe3d512ecc4cf759cc79239f7b179b0ffacaa9a75d522b39400f60208201527f9688a559abb94eddbed452728c9e581891b06f0d2b18b725ca1bc417cf328ab9918101919091527fc89efdaa54c0f20c7adf612882df0950f5a951637e0307cdcb4c672f298b8bc660608201524660808201523060a08201525f9060c00160405160208183030381529060405280519060200120905090565b61031f7f000000000000000000000000000000000000000000000000000000000000000081565b6009546901000000000000000000900460ff161561063e576040517f7cdf17ad00000000000000000000000000000000000000000000000000000000815260040160405180910390fd5b61064a84848484611319565b610680576040517f969bf72800000000000000000000000000000000000000000000000000000000815260040160405180910390fd5b50505050565b3373ffffffffffffffffffffffffffffffffffffffff7f000000000000000000000000000000000000000000000000000000000000000016146106f5576040517fef6d0f0200000000000000000000000000000000000000000000000000000000815260040160405180910390fd5b600980547fffffffffffffffffffffffffffffffffffffffffffff00ffffffffffffffffff1690556040513381527f5db9ee0a495bf2e6ff9c91a7834c1ba4fdd244a5e8aa4e537bd38aeae4b073aa906020015b60405180910390a1565b606060078054806020026020016040519081016040528092919081815260200182805480156107b657602002820191905f5260205f20905b815473ffffffffffffffffffffffffffffffffffffffff16815260019091019060200180831161078b575b5050505050905090565b3373ffffffffffffffffffffffffffffffffffffffff7f0000000000000000000000000000000000000000000000000000000000000000161461082f576040517fef6d0f0200000000000000000000000000000000000000000000000000000000815260040160405180910390fd5b600354610868576040517f2a01895e00000000000000000000000000000000000000000000000000000000815260040160405180910390fd5b60045460035460405190815267ffffffffffffffff909116907fd7c28c8e5cf8035d6d2cbe01c4fb4f61ab13923eae524e0adf91dee3e573175a9060200160405180910390a26108f35f6003819055600480547fffffffffffffffffffffffffffffffffffffffffffffffff0000000000000000908116909155600591909155600680549091169055565b60098054610100900467ffffffffffffffff1690600161091283612263565b91906101000a81548167ffffffffffffffff021916908367ffffffffffffffff16021790555050565b61095061094986868661126c565b8383611500565b505f5b6007548110156109ac5760085f600783815481106109735761097361228f565b5f91825260208083209091015473ffffffffffffffffffffffffffffffffffffffff168352820192909252604001812055600101610953565b506109ea8585808060200260200160405190810160405280939291908181526020018383602002808284375f92019190915250879250611722915050565b5050505050565b3373ffffffffffffffffffffffffffffffffffffffff7f00000000000000000000000000000000000000000000000000000000000000001614610a60576040517fef6d0f0200000000000000000000000000000000000000000000000000000000815260040160405180910390fd5b600980547fffffffffffffffffffffffffffffffffffffffffffff00ffffffffffffffffff1669010000000000000000001790556040513381527f62e78cea01bee320cd4e420270b5ea74000d11b0c9f74754ebdbfc544b05a25890602001610749565b5f610b167f58d425e8be31d187ac17f5f82ac3d273a78711340f808d63dbc4194910d7695f83604051602001610afb9291906122cf565b6040516020818303038152906040528051906020012061197e565b92915050565b600354610b55576040517f2a01895e00000000000000000000000000000000000000000000000000000000815260040160405180910390fd5b60065467ffffffffffffffff16421015610bb0576006546040517f6e11b18c00000000000000000000000000000000000000000000000000000000815267ffffffffffffffff90911660048201526024015b60405180910390fd5b610bb8611a64565b565b5f7f000000000000000000000000000000000000000000000000000000000000000067ffffffffffffffff168267ffffffffffffffff161015610bfe57505f919050565b610c287f00000000000000000000000000000000000000000000000000000000000000008361235c565b610c3d9067ffffffffffffffff16600161237c565b610b16907f000000000000000000000000000000000000000000000000000000000000000061238f565b600954610100900467ffffffffffffffff16610c8960e0850160c086016120dd565b67ffffffffffffffff1614610d0057600954610100900467ffffffffffffffff16610cba60e0850160c086016120dd565b6040517f863d309600000000000000000000000000000000000000000000000000000000815267ffffffffffffffff928316600482015291166024820152604401610ba7565b5f610d14610d0d85610ac4565b8484611500565b90505f610d2460208601866120dd565b90506020850135604086013581610d67576040517fb263ae7300000000000000000000000000000000000000000000000000000000815260040160405180910390fd5b60035415610dcd5760065467ffffffffffffffff16421015610dc5576006546040517f6e11b18c00000000000000000000000000000000000000000000000000000000815267ffffffffffffffff9091166004820152602401610ba7565b610dcd611a64565b5f54876060013514610e1b575f546040517f385ac16b000000000000000000000000000000000000000000000000000000008152600481019190915260608801356024820152604401610ba7565b60015467ffffffffffffffff90811690841611610e7c576001546040517f98152d8200000000000000000000000000000000000000000000000000000000815267ffffffffffffffff91821660048201529084166024820152604401610ba7565b7f000000000000000000000000000000000000000000000000000000000000000067ffffffffffffffff168367ffffffffffffffff161015610f1e576040517f5856a3a900000000000000000000000000000000000000000000000000000000815267ffffffffffffffff7f00000000000000000000000000000000000000000000000000000000000000008116600483015284166024820152604401610ba7565b5f610f2884610bba565b905080821115610f6e576040517f7073e9ee0000000000000000000000000000000000000000000000000000000081526004810183905260248101829052604401610ba7565b600b54821015610fb857600b546040517fe16b098e000000000000000000000000000000000000000000000000000000008152610ba7918491600401918252602082015260400190565b5f610fe37f0000000000000000000000000000000000000000000000000000000000000000426123a6565b6003859055600480547fffffffffffffffffffffffffffffffffffffffffffffffff000000000000000090811667ffffffffffffffff8981169182179093556005879055600680549092169284169283179091556040805188815260208101889052908101929092529192507f8ba6dbb7e67f31a03274ddb7d78bbb3cb84abbba52657c4850e44e4436a964b79060600160405180910390a267ffffffffffffffff85167ffb86d034bd9fe30682a6f78772c8ae07a83af54bdb14ddf4a34f8d66c65b0d0460608b013560808c01356110c260c08e0160a08f016123c6565b8d60c00160208101906110d591906120dd565b60408051948552602085019390935263ffffffff9182168484015267ffffffffffffffff1660608401528a166080830152519081900360a00190a27f000000000000000000000000000000000000000000000000000000000000000067ffffffffffffffff165f0361114957611149611a64565b505050505050505050565b6009546901000000000000000000900460ff161561119e576040517f7cdf17ad00000000000000000000000000000000000000000000000000000000815260040160405180910390fd5b84831415806111ad5750848114155b156111e4576040517fff633a3800000000000000000000000000000000000000000000000000000000815260040160405180910390fd5b5f5b858110156112635761125a8787838181106112035761120361228f565b90506020020160208101906112189190611eec565b86868481811061122a5761122a61228f565b905060200201358585858181106112435761124361228f565b905060200281019061125591906123df565b611319565b506001016111e6565b50505050505050565b5f6113117fa6a15cec7eb67a328b32c22644adb11f6bd322e13036b0f850e1e6e18b74132c85856040516020016112a4929190612443565b604080518083037fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe00181528282528051602091820120600954918401949094529082019290925260ff8516606082015261010090910467ffffffffffffffff16608082015260a001610afb565b949350505050565b6040805173ffffffffffffffffffffffffffffffffffffffff861660208201529081018490525f908190606001604080517fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe0818403018152828252805160209182012090830152016040516020818303038152906040528051906020012090506113a684845f5484611b34565b6113dc576040517f09bde33900000000000000000000000000000000000000000000000000000000815260040160405180910390fd5b73ffffffffffffffffffffffffffffffffffffffff86165f908152600a6020526040902054808611611412575f92505050611311565b5f61141d828861248f565b73ffffffffffffffffffffffffffffffffffffffff89165f908152600a60205260408120899055600b8054929350839290919061145b90849061237c565b9091555050604080518281526020810189905273ffffffffffffffffffffffffffffffffffffffff8a16917f987d620f307ff6b94d58743cb7a7509f24071586a77759b77c2d4e29f75a2f9a910160405180910390a26114f273ffffffffffffffffffffffffffffffffffffffff7f0000000000000000000000000000000000000000000000000000000000000000168983611b4b565b506001979650505050505050565b5f80805b838110156116ca575f5f61156f888888868181106115245761152461228f565b905060200281019061153691906124a2565b8080601f0160208091040260200160405190810160405280939291908181526020018383808284375f92019190915250611bdd92505050565b5090925090505f81600381111561158857611588612503565b146115c2576040517fa1c9731900000000000000000000000000000000000000000000000000000000815260048101849052602401610ba7565b73ffffffffffffffffffffffffffffffffffffffff82165f9081526008602052604081205490819003611639576040517f2a6edb2b00000000000000000000000000000000000000000000000000000000815273ffffffffffffffffffffffffffffffffffffffff84166004820152602401610ba7565b8473ffffffffffffffffffffffffffffffffffffffff168373ffffffffffffffffffffffffffffffffffffffff16116116a1576040517f590a84f700000000000000000000000000000000000000000000000000000000815260048101859052602401610ba7565b6116ac60018261248f565b600163ffffffff9190911681901b9690961795929450505001611504565b5060095460ff1683101561171a576009546040517fafe90aa20000000000000000000000000000000000000000000000000000000081526004810185905260ff9091166024820152604401610ba7565b509392505050565b81518015806117315750602081115b8061173e5750808260ff16115b8061175657508061175360ff8416600261238f565b11155b1561178d576040517f3e08dc2400000000000000000000000000000000000000000000000000000000815260040160405180910390fd5b5f805b828110156118a2578173ffffffffffffffffffffffffffffffffffffffff168582815181106117c1576117c161228f565b602002602001015173ffffffffffffffffffffffffffffffffffffffff1611611816576040517f3e08dc2400000000000000000000000000000000000000000000000000000000815260040160405180910390fd5b61182181600161237c565b60085f8784815181106118365761183661228f565b602002602001015173ffffffffffffffffffffffffffffffffffffffff1673ffffffffffffffffffffffffffffffffffffffff1681526020019081526020015f208190555084818151811061188d5761188d61228f565b60209081029190910101519150600101611790565b5083516118b6906007906020870190611e28565b50600980547fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff001660ff851617808255610100900467ffffffffffffffff1690600161190083612263565b91906101000a81548167ffffffffffffffff021916908367ffffffffffffffff160217905550507fa632d42becfd8d1acd4f59f46d02ea98b6fadd8fdf64a172b23214d84ce79d9c600960019054906101000a900467ffffffffffffffff16858560405161197093929190612530565b60405180910390a150505050565b5f610b16611a29604080517f8b73c3c69bb8fe3d512ecc4cf759cc79239f7b179b0ffacaa9a75d522b39400f60208201527f9688a559abb94eddbed452728c9e581891b06f0d2b18b725ca1bc417cf328ab9918101919091527fc89efdaa54c0f20c7adf612882df0950f5a951637e0307cdcb4c672f298b8bc660608201524660808201523060a08201525f9060c00160405160208183030381529060405280519060200120905090565b836040517f19010000000000000000000000000000000000000000000000000000000000008152600281019290925260228201526042902090565b6003545f819055600454600180547fffffffffffffffffffffffffffffffffffffffffffffffff00000000000000001667ffffffffffffffff9092169182179055600554600281905560405191927f9e4dbc3e4b78886ae23dcc1bd3019ad0a9d4f0ca4d92bab214dcdbe63c9ab63e92611ae79290918252602082015260400190565b60405180910390a2610bb85f6003819055600480547fffffffffffffffffffffffffffffffffffffffffffffffff0000000000000000908116909155600591909155600680549091169055565b5f82611b41868685611c26565b1495945050505050565b6040805173ffffffffffffffffffffffffffffffffffffffff8416602482015260448082018490528251808303909101815260649091019091526020810180517bffffffffffffffffffffffffffffffffffffffffffffffffffffffff167fa9059cbb00000000000000000000000000000000000000000000000000000000179052611bd8908490611c67565b505050565b5f5f5f8351604103611c14576020840151604085015160608601515f1a611c0688828585611d06565b955095509550505050611c1f565b505081515f91506002905b9250925092565b5f81815b84811015611c5e57611c5482878784818110611c4857611c4861228f565b90506020020135611df9565b9150600101611c2a565b50949350505050565b5f5f60205f8451602086015f885af180611c86576040513d5f823e3d81fd5b50505f513d91508115611c9d578060011415611cb7565b73ffffffffffffffffffffffffffffffffffffffff84163b155b15610680576040517f5274afe700000000000000000000000000000000000000000000000000000000815273ffffffffffffffffffffffffffffffffffffffff85166004820152602401610ba7565b5f80807f7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0841115611d3f57505f91506003905082611def565b604080515f808252602082018084528a905260ff891692820192909252606081018790526080810186905260019060a0016020604051602081039080840390855afa158015611d90573d5f5f3e3d5ffd5b50506040517fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe0015191505073ffffffffffffffffffffffffffffffffffffffff8116611de657505f925060019150829050611def565b92505f91508190505b9450945094915050565b5f818310611e13575f828152602084905260409020611e21565b5f8381526020839052604090205b9392505050565b828054828255905f5260205f20908101928215611ea0579160200282015b82811115611ea057825182547fffffffffffffffffffffffff00000000000000000000000000000000000000001673ffffffffffffffffffffffffffffffffffffffff909116178255602090920191600190910190611e46565b50611eac929150611eb0565b5090565b5b80821115611eac575f8155600101611eb1565b803573ffffffffffffffffffffffffffffffffffffffff81168114611ee7575f5ffd5b919050565b5f60208284031215611efc575f5ffd5b611e2182611ec4565b5f5f83601f840112611f15575f5ffd5b50813567ffffffffffffffff811115611f2c575f5ffd5b6020830191508360208260051b8501011115611f46575f5ffd5b9250929050565b5f5f5f5f60608587031215611f60575f5ffd5b611f6985611ec4565b935060208501359250604085013567ffffffffffffffff811115611f8b575f5ffd5b611f9787828801611f05565b95989497509550505050565b5f8151808452602084019350602083015f5b82811015611fe957815173ffffffffffffffffffffffffffffffffffffffff16865260209586019590910190600101611fb5565b5093949350505050565b602081525f611e216020830184611fa3565b803560ff81168114611ee7575f5ffd5b5f5f5f5f5f60608688031215612029575f5ffd5b853567ffffffffffffffff81111561203f575f5ffd5b61204b88828901611f05565b909650945061205e905060208701612005565b9250604086013567ffffffffffffffff811115612079575f5ffd5b61208588828901611f05565b969995985093965092949392505050565b5f60e082840312156120a6575f5ffd5b50919050565b5f60e082840312156120bc575f5ffd5b611e218383612096565b803567ffffffffffffffff81168114611ee7575f5ffd5b5f602082840312156120ed575f5ffd5b611e21826120c6565b5f5f5f6101008486031215612109575f5ffd5b6121138585612096565b925060e084013567ffffffffffffffff81111561212e575f5ffd5b61213a86828701611f05565b9497909650939450505050565b5f5f5f5f5f5f6060878903121561215c575f5ffd5b863567ffffffffffffffff811115612172575f5ffd5b61217e89828a01611f05565b909750955050602087013567ffffffffffffffff81111561219d575f5ffd5b6121a989828a01611f05565b909550935050604087013567ffffffffffffffff8111156121c8575f5ffd5b6121d489828a01611f05565b979a9699509497509295939492505050565b5f5f5f604084860312156121f8575f5ffd5b833567ffffffffffffffff81111561220e575f5ffd5b61221a86828701611f05565b909450925061222d905060208501612005565b90509250925092565b7f4e487b71000000000000000000000000000000000000000000000000000000005f52601160045260245ffd5b5f67ffffffffffffffff821667ffffffffffffffff810361228657612286612236565b60010192915050565b7f4e487b71000000000000000000000000000000000000000000000000000000005f52603260045260245ffd5b803563ffffffff81168114611ee7575f5ffd5b828152610100810167ffffffffffffffff6122e9846120c6565b1660208381019190915283013560408084019190915283013560608084019190915283013560808084019190915283013560a08084019190915263ffffffff906123349085016122bc565b1660c083015267ffffffffffffffff61234f60c085016120c6565b1660e08301529392505050565b67ffffffffffffffff8281168282160390811115610b1657610b16612236565b80820180821115610b1657610b16612236565b8082028115828204841417610b1657610b16612236565b67ffffffffffffffff8181168382160190811115610b1657610b16612236565b5f602082840312156123d6575f5ffd5b611e21826122bc565b5f5f83357fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe1843603018112612412575f5ffd5b83018035915067ffffffffffffffff82111561242c575f5ffd5b6020019150600581901b3603821315611f46575f5ffd5b5f8184825b858110156124845773ffffffffffffffffffffffffffffffffffffffff61246e83611ec4565b1683526020928301929190910190600101612448565b509095945050505050565b81810381811115610b1657610b16612236565b5f5f83357fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe18436030181126124d5575f5ffd5b83018035915067ffffffffffffffff8211156124ef575f5ffd5b602001915036819003821315611f46575f5ffd5b7f4e487b71000000000000000000000000000000000000000000000000000000005f52602160045260245ffd5b67ffffffffffffffff84168152606060208201525f6125526060830185611fa3565b905060ff8316604083015294935050505056fea2646970667358221220be97ad0ac93748cf58e34a87308fc34208ca220526672bc0b0da3d136b35e7f864736f6c634300081c0033",
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
// Solidity: constructor(address token_, address[] signers_, uint8 threshold_, address guardian_, uint64 timelock_, uint256 emissionPerEpoch_, uint64 firstEpoch_) returns()
func (rewardsDistributor *RewardsDistributor) PackConstructor(token_ common.Address, signers_ []common.Address, threshold_ uint8, guardian_ common.Address, timelock_ uint64, emissionPerEpoch_ *big.Int, firstEpoch_ uint64) []byte {
	enc, err := rewardsDistributor.abi.Pack("", token_, signers_, threshold_, guardian_, timelock_, emissionPerEpoch_, firstEpoch_)
	if err != nil {
		panic(err)
	}
	return enc
}

// PackMAXSIGNERS is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x59ecd657.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function MAX_SIGNERS() view returns(uint256)
func (rewardsDistributor *RewardsDistributor) PackMAXSIGNERS() []byte {
	enc, err := rewardsDistributor.abi.Pack("MAX_SIGNERS")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackMAXSIGNERS is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x59ecd657.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function MAX_SIGNERS() view returns(uint256)
func (rewardsDistributor *RewardsDistributor) TryPackMAXSIGNERS() ([]byte, error) {
	return rewardsDistributor.abi.Pack("MAX_SIGNERS")
}

// UnpackMAXSIGNERS is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x59ecd657.
//
// Solidity: function MAX_SIGNERS() view returns(uint256)
func (rewardsDistributor *RewardsDistributor) UnpackMAXSIGNERS(data []byte) (*big.Int, error) {
	out, err := rewardsDistributor.abi.Unpack("MAX_SIGNERS", data)
	if err != nil {
		return new(big.Int), err
	}
	out0 := abi.ConvertType(out[0], new(big.Int)).(*big.Int)
	return out0, nil
}

// PackSIGNERSETTYPEHASH is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xd561f72b.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function SIGNER_SET_TYPEHASH() view returns(bytes32)
func (rewardsDistributor *RewardsDistributor) PackSIGNERSETTYPEHASH() []byte {
	enc, err := rewardsDistributor.abi.Pack("SIGNER_SET_TYPEHASH")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackSIGNERSETTYPEHASH is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xd561f72b.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function SIGNER_SET_TYPEHASH() view returns(bytes32)
func (rewardsDistributor *RewardsDistributor) TryPackSIGNERSETTYPEHASH() ([]byte, error) {
	return rewardsDistributor.abi.Pack("SIGNER_SET_TYPEHASH")
}

// UnpackSIGNERSETTYPEHASH is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0xd561f72b.
//
// Solidity: function SIGNER_SET_TYPEHASH() view returns(bytes32)
func (rewardsDistributor *RewardsDistributor) UnpackSIGNERSETTYPEHASH(data []byte) ([32]byte, error) {
	out, err := rewardsDistributor.abi.Unpack("SIGNER_SET_TYPEHASH", data)
	if err != nil {
		return *new([32]byte), err
	}
	out0 := *abi.ConvertType(out[0], new([32]byte)).(*[32]byte)
	return out0, nil
}

// PackVOTETYPEHASH is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x86522973.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function VOTE_TYPEHASH() view returns(bytes32)
func (rewardsDistributor *RewardsDistributor) PackVOTETYPEHASH() []byte {
	enc, err := rewardsDistributor.abi.Pack("VOTE_TYPEHASH")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackVOTETYPEHASH is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x86522973.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function VOTE_TYPEHASH() view returns(bytes32)
func (rewardsDistributor *RewardsDistributor) TryPackVOTETYPEHASH() ([]byte, error) {
	return rewardsDistributor.abi.Pack("VOTE_TYPEHASH")
}

// UnpackVOTETYPEHASH is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x86522973.
//
// Solidity: function VOTE_TYPEHASH() view returns(bytes32)
func (rewardsDistributor *RewardsDistributor) UnpackVOTETYPEHASH(data []byte) ([32]byte, error) {
	out, err := rewardsDistributor.abi.Unpack("VOTE_TYPEHASH", data)
	if err != nil {
		return *new([32]byte), err
	}
	out0 := *abi.ConvertType(out[0], new([32]byte)).(*[32]byte)
	return out0, nil
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

// PackDomainSeparator is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xf698da25.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function domainSeparator() view returns(bytes32)
func (rewardsDistributor *RewardsDistributor) PackDomainSeparator() []byte {
	enc, err := rewardsDistributor.abi.Pack("domainSeparator")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackDomainSeparator is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xf698da25.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function domainSeparator() view returns(bytes32)
func (rewardsDistributor *RewardsDistributor) TryPackDomainSeparator() ([]byte, error) {
	return rewardsDistributor.abi.Pack("domainSeparator")
}

// UnpackDomainSeparator is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0xf698da25.
//
// Solidity: function domainSeparator() view returns(bytes32)
func (rewardsDistributor *RewardsDistributor) UnpackDomainSeparator(data []byte) ([32]byte, error) {
	out, err := rewardsDistributor.abi.Unpack("domainSeparator", data)
	if err != nil {
		return *new([32]byte), err
	}
	out0 := *abi.ConvertType(out[0], new([32]byte)).(*[32]byte)
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

// PackProposeRoot is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xb920fe71.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function proposeRoot((uint64,bytes32,uint256,bytes32,bytes32,uint32,uint64) vote, bytes[] signatures) returns()
func (rewardsDistributor *RewardsDistributor) PackProposeRoot(vote RewardsDistributorVote, signatures [][]byte) []byte {
	enc, err := rewardsDistributor.abi.Pack("proposeRoot", vote, signatures)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackProposeRoot is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xb920fe71.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function proposeRoot((uint64,bytes32,uint256,bytes32,bytes32,uint32,uint64) vote, bytes[] signatures) returns()
func (rewardsDistributor *RewardsDistributor) TryPackProposeRoot(vote RewardsDistributorVote, signatures [][]byte) ([]byte, error) {
	return rewardsDistributor.abi.Pack("proposeRoot", vote, signatures)
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

// PackRound is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x146ca531.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function round() view returns(uint64)
func (rewardsDistributor *RewardsDistributor) PackRound() []byte {
	enc, err := rewardsDistributor.abi.Pack("round")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackRound is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x146ca531.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function round() view returns(uint64)
func (rewardsDistributor *RewardsDistributor) TryPackRound() ([]byte, error) {
	return rewardsDistributor.abi.Pack("round")
}

// UnpackRound is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x146ca531.
//
// Solidity: function round() view returns(uint64)
func (rewardsDistributor *RewardsDistributor) UnpackRound(data []byte) (uint64, error) {
	out, err := rewardsDistributor.abi.Unpack("round", data)
	if err != nil {
		return *new(uint64), err
	}
	out0 := *abi.ConvertType(out[0], new(uint64)).(*uint64)
	return out0, nil
}

// PackSignerIndex is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x1a91a0ab.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function signerIndex(address signer) view returns(uint256)
func (rewardsDistributor *RewardsDistributor) PackSignerIndex(signer common.Address) []byte {
	enc, err := rewardsDistributor.abi.Pack("signerIndex", signer)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackSignerIndex is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x1a91a0ab.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function signerIndex(address signer) view returns(uint256)
func (rewardsDistributor *RewardsDistributor) TryPackSignerIndex(signer common.Address) ([]byte, error) {
	return rewardsDistributor.abi.Pack("signerIndex", signer)
}

// UnpackSignerIndex is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x1a91a0ab.
//
// Solidity: function signerIndex(address signer) view returns(uint256)
func (rewardsDistributor *RewardsDistributor) UnpackSignerIndex(data []byte) (*big.Int, error) {
	out, err := rewardsDistributor.abi.Unpack("signerIndex", data)
	if err != nil {
		return new(big.Int), err
	}
	out0 := abi.ConvertType(out[0], new(big.Int)).(*big.Int)
	return out0, nil
}

// PackSignerSetDigest is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xc32dc936.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function signerSetDigest(address[] signers_, uint8 threshold_) view returns(bytes32)
func (rewardsDistributor *RewardsDistributor) PackSignerSetDigest(signers []common.Address, threshold uint8) []byte {
	enc, err := rewardsDistributor.abi.Pack("signerSetDigest", signers, threshold)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackSignerSetDigest is the Go binding used to pack the parameters required for calling
// the contract method with ID 0xc32dc936.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function signerSetDigest(address[] signers_, uint8 threshold_) view returns(bytes32)
func (rewardsDistributor *RewardsDistributor) TryPackSignerSetDigest(signers []common.Address, threshold uint8) ([]byte, error) {
	return rewardsDistributor.abi.Pack("signerSetDigest", signers, threshold)
}

// UnpackSignerSetDigest is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0xc32dc936.
//
// Solidity: function signerSetDigest(address[] signers_, uint8 threshold_) view returns(bytes32)
func (rewardsDistributor *RewardsDistributor) UnpackSignerSetDigest(data []byte) ([32]byte, error) {
	out, err := rewardsDistributor.abi.Unpack("signerSetDigest", data)
	if err != nil {
		return *new([32]byte), err
	}
	out0 := *abi.ConvertType(out[0], new([32]byte)).(*[32]byte)
	return out0, nil
}

// PackSigners is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x46f0975a.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function signers() view returns(address[])
func (rewardsDistributor *RewardsDistributor) PackSigners() []byte {
	enc, err := rewardsDistributor.abi.Pack("signers")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackSigners is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x46f0975a.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function signers() view returns(address[])
func (rewardsDistributor *RewardsDistributor) TryPackSigners() ([]byte, error) {
	return rewardsDistributor.abi.Pack("signers")
}

// UnpackSigners is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x46f0975a.
//
// Solidity: function signers() view returns(address[])
func (rewardsDistributor *RewardsDistributor) UnpackSigners(data []byte) ([]common.Address, error) {
	out, err := rewardsDistributor.abi.Unpack("signers", data)
	if err != nil {
		return *new([]common.Address), err
	}
	out0 := *abi.ConvertType(out[0], new([]common.Address)).(*[]common.Address)
	return out0, nil
}

// PackThreshold is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x42cde4e8.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function threshold() view returns(uint8)
func (rewardsDistributor *RewardsDistributor) PackThreshold() []byte {
	enc, err := rewardsDistributor.abi.Pack("threshold")
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackThreshold is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x42cde4e8.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function threshold() view returns(uint8)
func (rewardsDistributor *RewardsDistributor) TryPackThreshold() ([]byte, error) {
	return rewardsDistributor.abi.Pack("threshold")
}

// UnpackThreshold is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x42cde4e8.
//
// Solidity: function threshold() view returns(uint8)
func (rewardsDistributor *RewardsDistributor) UnpackThreshold(data []byte) (uint8, error) {
	out, err := rewardsDistributor.abi.Unpack("threshold", data)
	if err != nil {
		return *new(uint8), err
	}
	out0 := *abi.ConvertType(out[0], new(uint8)).(*uint8)
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

// PackUpdateSigners is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x6ae402d8.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function updateSigners(address[] signers_, uint8 threshold_, bytes[] signatures) returns()
func (rewardsDistributor *RewardsDistributor) PackUpdateSigners(signers []common.Address, threshold uint8, signatures [][]byte) []byte {
	enc, err := rewardsDistributor.abi.Pack("updateSigners", signers, threshold, signatures)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackUpdateSigners is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x6ae402d8.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function updateSigners(address[] signers_, uint8 threshold_, bytes[] signatures) returns()
func (rewardsDistributor *RewardsDistributor) TryPackUpdateSigners(signers []common.Address, threshold uint8, signatures [][]byte) ([]byte, error) {
	return rewardsDistributor.abi.Pack("updateSigners", signers, threshold, signatures)
}

// PackVoteDigest is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x865f86e0.  This method will panic if any
// invalid/nil inputs are passed.
//
// Solidity: function voteDigest((uint64,bytes32,uint256,bytes32,bytes32,uint32,uint64) vote) view returns(bytes32)
func (rewardsDistributor *RewardsDistributor) PackVoteDigest(vote RewardsDistributorVote) []byte {
	enc, err := rewardsDistributor.abi.Pack("voteDigest", vote)
	if err != nil {
		panic(err)
	}
	return enc
}

// TryPackVoteDigest is the Go binding used to pack the parameters required for calling
// the contract method with ID 0x865f86e0.  This method will return an error
// if any inputs are invalid/nil.
//
// Solidity: function voteDigest((uint64,bytes32,uint256,bytes32,bytes32,uint32,uint64) vote) view returns(bytes32)
func (rewardsDistributor *RewardsDistributor) TryPackVoteDigest(vote RewardsDistributorVote) ([]byte, error) {
	return rewardsDistributor.abi.Pack("voteDigest", vote)
}

// UnpackVoteDigest is the Go binding that unpacks the parameters returned
// from invoking the contract method with ID 0x865f86e0.
//
// Solidity: function voteDigest((uint64,bytes32,uint256,bytes32,bytes32,uint32,uint64) vote) view returns(bytes32)
func (rewardsDistributor *RewardsDistributor) UnpackVoteDigest(data []byte) ([32]byte, error) {
	out, err := rewardsDistributor.abi.Unpack("voteDigest", data)
	if err != nil {
		return *new([32]byte), err
	}
	out0 := *abi.ConvertType(out[0], new([32]byte)).(*[32]byte)
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

// RewardsDistributorRootSigned represents a RootSigned event raised by the RewardsDistributor contract.
type RewardsDistributorRootSigned struct {
	Epoch    uint64
	PrevRoot [32]byte
	Inputs   [32]byte
	Rules    uint32
	Round    uint64
	SignedBy uint32
	Raw      *types.Log // Blockchain specific contextual infos
}

const RewardsDistributorRootSignedEventName = "RootSigned"

// ContractEventName returns the user-defined event name.
func (RewardsDistributorRootSigned) ContractEventName() string {
	return RewardsDistributorRootSignedEventName
}

// UnpackRootSignedEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event RootSigned(uint64 indexed epoch, bytes32 prevRoot, bytes32 inputs, uint32 rules, uint64 round, uint32 signedBy)
func (rewardsDistributor *RewardsDistributor) UnpackRootSignedEvent(log *types.Log) (*RewardsDistributorRootSigned, error) {
	event := "RootSigned"
	if len(log.Topics) == 0 {
		return nil, bind.ErrNoEventSignature
	}
	if log.Topics[0] != rewardsDistributor.abi.Events[event].ID {
		return nil, bind.ErrEventSignatureMismatch
	}
	out := new(RewardsDistributorRootSigned)
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

// RewardsDistributorSignersChanged represents a SignersChanged event raised by the RewardsDistributor contract.
type RewardsDistributorSignersChanged struct {
	Round     uint64
	Signers   []common.Address
	Threshold uint8
	Raw       *types.Log // Blockchain specific contextual infos
}

const RewardsDistributorSignersChangedEventName = "SignersChanged"

// ContractEventName returns the user-defined event name.
func (RewardsDistributorSignersChanged) ContractEventName() string {
	return RewardsDistributorSignersChangedEventName
}

// UnpackSignersChangedEvent is the Go binding that unpacks the event data emitted
// by contract.
//
// Solidity: event SignersChanged(uint64 round, address[] signers, uint8 threshold)
func (rewardsDistributor *RewardsDistributor) UnpackSignersChangedEvent(log *types.Log) (*RewardsDistributorSignersChanged, error) {
	event := "SignersChanged"
	if len(log.Topics) == 0 {
		return nil, bind.ErrNoEventSignature
	}
	if log.Topics[0] != rewardsDistributor.abi.Events[event].ID {
		return nil, bind.ErrEventSignatureMismatch
	}
	out := new(RewardsDistributorSignersChanged)
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
	if bytes.Equal(raw[:4], rewardsDistributor.abi.Errors["BadSignature"].ID.Bytes()[:4]) {
		return rewardsDistributor.UnpackBadSignatureError(raw[4:])
	}
	if bytes.Equal(raw[:4], rewardsDistributor.abi.Errors["BadSignerSet"].ID.Bytes()[:4]) {
		return rewardsDistributor.UnpackBadSignerSetError(raw[4:])
	}
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
	if bytes.Equal(raw[:4], rewardsDistributor.abi.Errors["NotSigner"].ID.Bytes()[:4]) {
		return rewardsDistributor.UnpackNotSignerError(raw[4:])
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
	if bytes.Equal(raw[:4], rewardsDistributor.abi.Errors["SignersNotAscending"].ID.Bytes()[:4]) {
		return rewardsDistributor.UnpackSignersNotAscendingError(raw[4:])
	}
	if bytes.Equal(raw[:4], rewardsDistributor.abi.Errors["TooFewSignatures"].ID.Bytes()[:4]) {
		return rewardsDistributor.UnpackTooFewSignaturesError(raw[4:])
	}
	if bytes.Equal(raw[:4], rewardsDistributor.abi.Errors["WrongPrevRoot"].ID.Bytes()[:4]) {
		return rewardsDistributor.UnpackWrongPrevRootError(raw[4:])
	}
	if bytes.Equal(raw[:4], rewardsDistributor.abi.Errors["WrongRound"].ID.Bytes()[:4]) {
		return rewardsDistributor.UnpackWrongRoundError(raw[4:])
	}
	if bytes.Equal(raw[:4], rewardsDistributor.abi.Errors["ZeroRoot"].ID.Bytes()[:4]) {
		return rewardsDistributor.UnpackZeroRootError(raw[4:])
	}
	return nil, errors.New("Unknown error")
}

// RewardsDistributorBadSignature represents a BadSignature error raised by the RewardsDistributor contract.
type RewardsDistributorBadSignature struct {
	Index *big.Int
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error BadSignature(uint256 index)
func RewardsDistributorBadSignatureErrorID() common.Hash {
	return common.HexToHash("0xa1c973190ea39240abfd4da3039e0d94cea4d1e689acfee87f4e7dbabee0f307")
}

// UnpackBadSignatureError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error BadSignature(uint256 index)
func (rewardsDistributor *RewardsDistributor) UnpackBadSignatureError(raw []byte) (*RewardsDistributorBadSignature, error) {
	out := new(RewardsDistributorBadSignature)
	if err := rewardsDistributor.abi.UnpackIntoInterface(out, "BadSignature", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// RewardsDistributorBadSignerSet represents a BadSignerSet error raised by the RewardsDistributor contract.
type RewardsDistributorBadSignerSet struct {
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error BadSignerSet()
func RewardsDistributorBadSignerSetErrorID() common.Hash {
	return common.HexToHash("0x3e08dc24de95d1a4e4eacecefb6f0cb4b16db6966fc5fe105859f3e14f82f0cd")
}

// UnpackBadSignerSetError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error BadSignerSet()
func (rewardsDistributor *RewardsDistributor) UnpackBadSignerSetError(raw []byte) (*RewardsDistributorBadSignerSet, error) {
	out := new(RewardsDistributorBadSignerSet)
	if err := rewardsDistributor.abi.UnpackIntoInterface(out, "BadSignerSet", raw); err != nil {
		return nil, err
	}
	return out, nil
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

// RewardsDistributorNotSigner represents a NotSigner error raised by the RewardsDistributor contract.
type RewardsDistributorNotSigner struct {
	Signer common.Address
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error NotSigner(address signer)
func RewardsDistributorNotSignerErrorID() common.Hash {
	return common.HexToHash("0x2a6edb2b1c2b1fae0871e1f67fc6d38b8a20ecc8b6d3a14dbc9a1281ef472b70")
}

// UnpackNotSignerError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error NotSigner(address signer)
func (rewardsDistributor *RewardsDistributor) UnpackNotSignerError(raw []byte) (*RewardsDistributorNotSigner, error) {
	out := new(RewardsDistributorNotSigner)
	if err := rewardsDistributor.abi.UnpackIntoInterface(out, "NotSigner", raw); err != nil {
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

// RewardsDistributorSignersNotAscending represents a SignersNotAscending error raised by the RewardsDistributor contract.
type RewardsDistributorSignersNotAscending struct {
	Index *big.Int
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error SignersNotAscending(uint256 index)
func RewardsDistributorSignersNotAscendingErrorID() common.Hash {
	return common.HexToHash("0x590a84f76cadfc6716aaea24107af9134f0cd4c66edbe9af3ffe914656b566fa")
}

// UnpackSignersNotAscendingError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error SignersNotAscending(uint256 index)
func (rewardsDistributor *RewardsDistributor) UnpackSignersNotAscendingError(raw []byte) (*RewardsDistributorSignersNotAscending, error) {
	out := new(RewardsDistributorSignersNotAscending)
	if err := rewardsDistributor.abi.UnpackIntoInterface(out, "SignersNotAscending", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// RewardsDistributorTooFewSignatures represents a TooFewSignatures error raised by the RewardsDistributor contract.
type RewardsDistributorTooFewSignatures struct {
	Valid     *big.Int
	Threshold uint8
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error TooFewSignatures(uint256 valid, uint8 threshold)
func RewardsDistributorTooFewSignaturesErrorID() common.Hash {
	return common.HexToHash("0xafe90aa2bb618d53f6d34414e0cb669478e387bb8b204f1cd150572781c084bb")
}

// UnpackTooFewSignaturesError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error TooFewSignatures(uint256 valid, uint8 threshold)
func (rewardsDistributor *RewardsDistributor) UnpackTooFewSignaturesError(raw []byte) (*RewardsDistributorTooFewSignatures, error) {
	out := new(RewardsDistributorTooFewSignatures)
	if err := rewardsDistributor.abi.UnpackIntoInterface(out, "TooFewSignatures", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// RewardsDistributorWrongPrevRoot represents a WrongPrevRoot error raised by the RewardsDistributor contract.
type RewardsDistributorWrongPrevRoot struct {
	Root  [32]byte
	Voted [32]byte
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error WrongPrevRoot(bytes32 root, bytes32 voted)
func RewardsDistributorWrongPrevRootErrorID() common.Hash {
	return common.HexToHash("0x385ac16b4c21ee918c5b43db913887c52ea1550967b57fd4119042e4374b7af0")
}

// UnpackWrongPrevRootError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error WrongPrevRoot(bytes32 root, bytes32 voted)
func (rewardsDistributor *RewardsDistributor) UnpackWrongPrevRootError(raw []byte) (*RewardsDistributorWrongPrevRoot, error) {
	out := new(RewardsDistributorWrongPrevRoot)
	if err := rewardsDistributor.abi.UnpackIntoInterface(out, "WrongPrevRoot", raw); err != nil {
		return nil, err
	}
	return out, nil
}

// RewardsDistributorWrongRound represents a WrongRound error raised by the RewardsDistributor contract.
type RewardsDistributorWrongRound struct {
	Round uint64
	Voted uint64
}

// ErrorID returns the hash of canonical representation of the error's signature.
//
// Solidity: error WrongRound(uint64 round, uint64 voted)
func RewardsDistributorWrongRoundErrorID() common.Hash {
	return common.HexToHash("0x863d309675371076c7bca5d03dfc365e931f5ad7d5174cff85af5e27ca93459d")
}

// UnpackWrongRoundError is the Go binding used to decode the provided
// error data into the corresponding Go error struct.
//
// Solidity: error WrongRound(uint64 round, uint64 voted)
func (rewardsDistributor *RewardsDistributor) UnpackWrongRoundError(raw []byte) (*RewardsDistributorWrongRound, error) {
	out := new(RewardsDistributorWrongRound)
	if err := rewardsDistributor.abi.UnpackIntoInterface(out, "WrongRound", raw); err != nil {
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
