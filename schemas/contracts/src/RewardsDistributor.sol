// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";

/// @title RewardsDistributor
/// @notice Pays cumulative rewards against a Merkle root posted once per epoch.
/// Leaves are OpenZeppelin StandardMerkleTree leaves of
/// (address account, uint256 cumulativeAmount):
/// keccak256(bytes.concat(keccak256(abi.encode(account, cumulativeAmount)))).
/// An account is paid cumulativeAmount minus what it already claimed, so a
/// proof from any root pays at most once and never more than that root grants.
contract RewardsDistributor {
    using SafeERC20 for IERC20;

    /// @notice The token rewards are paid in; this contract holds the pool.
    IERC20 public immutable token;
    /// @notice The only key allowed to post roots.
    address public immutable poster;

    /// @notice The active root, and the epoch it settles.
    bytes32 public root;
    uint64 public epoch;
    /// @notice Sum of all cumulative amounts in the active root.
    uint256 public total;

    /// @notice Cumulative amount already paid to each account.
    mapping(address account => uint256) public claimed;

    event RootPosted(uint64 indexed epoch, bytes32 root, uint256 total);
    event Claimed(address indexed account, uint256 amount, uint256 cumulativeAmount);

    error NotPoster();
    error ZeroRoot();
    error EpochNotIncreasing(uint64 current, uint64 proposed);
    error InvalidProof();
    error NothingToClaim();

    constructor(IERC20 token_, address poster_) {
        token = token_;
        poster = poster_;
    }

    /// @notice Activates `root_` for `epoch_`. Epochs strictly increase, so a
    /// root is never posted twice and an old one never comes back.
    function postRoot(uint64 epoch_, bytes32 root_, uint256 total_) external {
        if (msg.sender != poster) revert NotPoster();
        if (root_ == bytes32(0)) revert ZeroRoot();
        if (epoch_ <= epoch) revert EpochNotIncreasing(epoch, epoch_);
        root = root_;
        epoch = epoch_;
        total = total_;
        emit RootPosted(epoch_, root_, total_);
    }

    /// @notice Pays `account` its cumulative amount minus what it has claimed.
    /// Anyone may submit; the tokens always go to `account`.
    function claim(address account, uint256 cumulativeAmount, bytes32[] calldata proof) external {
        bytes32 leaf = keccak256(bytes.concat(keccak256(abi.encode(account, cumulativeAmount))));
        if (!MerkleProof.verifyCalldata(proof, root, leaf)) revert InvalidProof();
        uint256 already = claimed[account];
        if (cumulativeAmount <= already) revert NothingToClaim();
        claimed[account] = cumulativeAmount;
        uint256 amount = cumulativeAmount - already;
        emit Claimed(account, amount, cumulativeAmount);
        token.safeTransfer(account, amount);
    }
}
